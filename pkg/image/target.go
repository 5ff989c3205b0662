package image

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/winversion"
)

// Target is where a pod runs its images: on the host's kernel (process
// isolation), or in a utility VM booted from one Windows variant of the
// sandbox image (hyperv). It decides which variant of an image suits the
// pod.
type Target struct {
	// Handler is the runtime handler's name, for messages.
	Handler   string
	Isolation config.Isolation
	// UVM is the Windows build a hyperv pod's utility VM runs, which its
	// images must suit. Zero means not known yet (the sandbox image is
	// not present): the newest build the host can boot is chosen.
	UVM winversion.Version
}

func (t Target) hyperV() bool { return t.Isolation == config.IsolationHyperV }

// accepts reports whether a pod of t on host h can run an image of build
// v: process pods by the host's build (winversion.CheckProcessIsolation),
// hyperv pods by their utility VM's (winversion.CheckHyperVIsolation with
// the VM in the host's place), which the host must be able to boot.
func (t Target) accepts(h Host, v winversion.Version) bool {
	if !t.hyperV() {
		return winversion.CheckProcessIsolation(h.OSVersion, v) == nil
	}
	if !winversion.HyperVCompatible(h.OSVersion, v) {
		return false
	}
	return t.UVM == (winversion.Version{}) || winversion.CheckHyperVIsolation(t.UVM, v) == nil
}

// describe names the handler and the build its containers run on.
func (t Target) describe(h Host) string {
	who := fmt.Sprintf("runtime handler %q", t.Handler)
	if t.Handler == "" {
		who = isolationName(t.Isolation) + " isolation"
	}
	switch {
	case !t.hyperV():
		return fmt.Sprintf("%s (process isolation on host build %s)", who, h.OSVersion)
	case t.UVM == (winversion.Version{}):
		return fmt.Sprintf("%s (a utility VM of any build up to host build %s)", who, h.OSVersion)
	default:
		return fmt.Sprintf("%s (utility VM build %s on host build %s)", who, t.UVM, h.OSVersion)
	}
}

// TargetFor is the target of the runtime handler name, configured as rt,
// on host h. A hyperv handler's utility VMs run its sandbox_os_build,
// else the newest build that the sandbox image pause offers and the host
// can boot; pause is nil when it is not present, which leaves the build
// to the pull. The error, for a sandbox_os_build newer than the host,
// wraps errdefs.ErrFailedPrecondition.
func TargetFor(h Host, name string, rt config.Runtime, pause *Image) (Target, error) {
	t := Target{Handler: name, Isolation: rt.Isolation}
	if h.OS != "windows" || !t.hyperV() {
		return t, nil
	}
	if rt.SandboxOSBuild != 0 {
		t.UVM = winversion.Version{Major: h.OSVersion.Major, Minor: h.OSVersion.Minor, Build: rt.SandboxOSBuild}
		if !winversion.HyperVCompatible(h.OSVersion, t.UVM) {
			return Target{}, fmt.Errorf("runtimes.%s.sandbox_os_build: build %d is newer than host build %s, which cannot boot it: %w",
				name, rt.SandboxOSBuild, h.OSVersion, errdefs.ErrFailedPrecondition)
		}
		return t, nil
	}
	if pause != nil {
		for _, v := range pause.offeredBuilds(h) {
			if winversion.HyperVCompatible(h.OSVersion, v) {
				t.UVM = v
				break
			}
		}
	}
	return t, nil
}

// TargetsFor is the target of the configured handler name, with every
// configured handler's for errors to name those that can run an image.
// The sandbox image's present variants decide a hyperv handler's default
// utility VM build; when it is absent, the pull decides.
func (s *Service) TargetsFor(ctx context.Context, cfg *config.Config, name string) (Target, []Target, error) {
	var pause *Image
	if ref := cfg.Image.SandboxImage; ref != "" {
		pause, _ = s.Status(ctx, ref)
	}
	t, err := TargetFor(s.host, name, cfg.Runtimes[name], pause)
	if err != nil {
		return Target{}, nil, err
	}
	return t, Targets(cfg, s.host, pause), nil
}

// Targets are the targets of every configured handler, in name order,
// for errors to name the handlers that can run an image. A handler whose
// target cannot be had is left out.
func Targets(cfg *config.Config, h Host, pause *Image) []Target {
	var out []Target
	for _, name := range cfg.HandlerNames() {
		if t, err := TargetFor(h, name, cfg.Runtimes[name], pause); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// offeredBuilds are the Windows builds of img's index that suit h's
// architecture, newest first; the image's own build when it came without
// an index.
func (img *Image) offeredBuilds(h Host) []winversion.Version {
	platforms := img.Offered
	if len(platforms) == 0 {
		platforms = []ocispec.Platform{img.Config.Platform}
	}
	var out []winversion.Version
	for i := range platforms {
		if !platformMatches(h, &platforms[i]) {
			continue
		}
		if v, err := winversion.Parse(platforms[i].OSVersion); err == nil {
			out = append(out, v)
		}
	}
	sortNewestFirst(out)
	return out
}

func sortNewestFirst(vs []winversion.Version) {
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Build != vs[j].Build {
			return vs[i].Build > vs[j].Build
		}
		return vs[i].Revision > vs[j].Revision
	})
}

// mismatchError says that none of the offered builds suits t, and which
// handler can run them instead. It wraps errdefs.ErrFailedPrecondition.
func mismatchError(h Host, t Target, offered []winversion.Version, handlers []Target) error {
	builds := make([]string, len(offered))
	for i, v := range offered {
		builds[i] = v.String()
	}
	return fmt.Errorf("no variant suits %s: the image offers Windows builds %s; %s: %w",
		t.describe(h), strings.Join(builds, ", "), suggestHandler(h, t, offered, handlers), errdefs.ErrFailedPrecondition)
}

// suggestHandler names the configured handlers that can run one of the
// offered builds, else the hyperv handler that would.
func suggestHandler(h Host, t Target, offered []winversion.Version, handlers []Target) string {
	var names []string
	for _, o := range handlers {
		if o.Handler == t.Handler {
			continue
		}
		for _, v := range offered {
			if o.accepts(h, v) {
				names = append(names, fmt.Sprintf("%q", o.Handler))
				break
			}
		}
	}
	switch {
	case len(names) == 1:
		return "runtime handler " + names[0] + " can run it"
	case len(names) > 1:
		return "runtime handlers " + strings.Join(names, ", ") + " can run it"
	}
	for _, v := range offered {
		if winversion.HyperVCompatible(h.OSVersion, v) {
			return fmt.Sprintf("a hyperv runtime handler with sandbox_os_build = %d can run it", v.Build)
		}
	}
	return "no handler on this host can run it: every build is newer than the host's"
}
