package image

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/winversion"
)

// Host is the platform that images are chosen for.
type Host struct {
	OS           string
	Architecture string
	Variant      string
	// OSVersion is the host's Windows version; zero on other systems.
	OSVersion winversion.Version
}

// String formats h as os/arch[/variant][ version].
func (h Host) String() string {
	s := h.OS + "/" + h.Architecture
	if h.Variant != "" {
		s += "/" + h.Variant
	}
	if h.OS == "windows" {
		s += " " + h.OSVersion.String()
	}
	return s
}

// normalizeArch folds the aliases that image indexes use.
func normalizeArch(arch, variant string) (string, string) {
	switch strings.ToLower(arch) {
	case "x86_64", "x86-64", "amd64":
		return "amd64", ""
	case "aarch64", "arm64":
		if variant == "8" || variant == "v8" {
			variant = ""
		}
		return "arm64", variant
	case "armhf":
		return "arm", "v7"
	case "armel":
		return "arm", "v6"
	}
	return strings.ToLower(arch), variant
}

// platformMatches reports whether p runs on h at all, ignoring the
// Windows build. A manifest without a variant matches any host variant.
func platformMatches(h Host, p *ocispec.Platform) bool {
	if p == nil || !strings.EqualFold(p.OS, h.OS) {
		return false
	}
	ha, hv := normalizeArch(h.Architecture, h.Variant)
	pa, pv := normalizeArch(p.Architecture, p.Variant)
	return ha == pa && (pv == "" || hv == "" || pv == hv)
}

// SelectManifest picks the manifest of an index that suits the host and
// the pod's target. Other systems take the first matching os/arch,
// preferring an exact variant. Windows takes the highest build the
// target accepts (see Target); a Windows manifest without os.version is
// the last resort. An index without the host's os/arch is
// errdefs.ErrNotFound; one whose Windows builds all clash with the
// target is errdefs.ErrFailedPrecondition, naming the builds and, from
// handlers, the runtime handlers that can run it.
func SelectManifest(h Host, t Target, handlers []Target, manifests []ocispec.Descriptor) (ocispec.Descriptor, error) {
	var matching []ocispec.Descriptor
	for _, m := range manifests {
		if platformMatches(h, m.Platform) {
			matching = append(matching, m)
		}
	}
	if len(matching) == 0 {
		return ocispec.Descriptor{}, fmt.Errorf("no manifest for %s/%s in the image index (it offers %s): %w",
			h.OS, h.Architecture, offered(manifests), errdefs.ErrNotFound)
	}
	if h.OS != "windows" {
		_, hv := normalizeArch(h.Architecture, h.Variant)
		for _, m := range matching {
			if _, pv := normalizeArch(m.Platform.Architecture, m.Platform.Variant); pv == hv {
				return m, nil
			}
		}
		return matching[0], nil
	}
	return selectWindows(h, t, handlers, matching)
}

func selectWindows(h Host, t Target, handlers []Target, matching []ocispec.Descriptor) (ocispec.Descriptor, error) {
	versions := map[winversion.Version]ocispec.Descriptor{}
	var builds []winversion.Version
	var unversioned []ocispec.Descriptor
	for _, m := range matching {
		v, err := winversion.Parse(m.Platform.OSVersion)
		if err != nil {
			unversioned = append(unversioned, m)
			continue
		}
		if _, dup := versions[v]; !dup {
			versions[v] = m
			builds = append(builds, v)
		}
	}
	// Highest build first, then highest revision: the newest image the
	// rule allows is the closest to the host or utility VM.
	sortNewestFirst(builds)
	for _, v := range builds {
		if t.accepts(h, v) {
			return versions[v], nil
		}
	}
	if len(unversioned) > 0 {
		return unversioned[0], nil
	}
	return ocispec.Descriptor{}, mismatchError(h, t, builds, handlers)
}

func isolationName(iso config.Isolation) string {
	if iso == "" {
		return string(config.IsolationProcess)
	}
	return string(iso)
}

// offered lists the platforms of an index for an error message.
func offered(manifests []ocispec.Descriptor) string {
	var s []string
	for _, m := range manifests {
		if m.Platform != nil {
			s = append(s, platformString(*m.Platform))
		}
	}
	if len(s) == 0 {
		return "no platforms"
	}
	return strings.Join(s, ", ")
}

// CheckConfigPlatform applies the rules of SelectManifest to an image
// that is a single manifest, using the platform of its config.
func CheckConfigPlatform(h Host, t Target, handlers []Target, cfg *ocispec.Image) error {
	p := cfg.Platform
	_, err := SelectManifest(h, t, handlers, []ocispec.Descriptor{{Platform: &p}})
	return err
}

// defaultHost is the platform of this process without the Windows build,
// which host_windows.go adds.
func defaultHost() Host {
	return Host{OS: runtime.GOOS, Architecture: runtime.GOARCH}
}
