package isolation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Legacy profile names of the deprecated *_profile_path fields.
const (
	profileRuntimeDefault = "runtime/default"
	profileDockerDefault  = "docker/default"
	profileUnconfined     = "unconfined"
	profileLocalhostPfx   = "localhost/"
)

// seccompChoice is a profile request after the CRI's two encodings (the
// SecurityProfile message and the deprecated path string) are merged.
type seccompChoice struct {
	kind runtimeapi.SecurityProfile_ProfileType
	ref  string // Localhost: the profile file on the node
	none bool   // nothing asked: unconfined
}

func chooseProfile(p *runtimeapi.SecurityProfile, legacy string) (seccompChoice, error) {
	if p != nil {
		if p.GetProfileType() == runtimeapi.SecurityProfile_Localhost && p.GetLocalhostRef() == "" {
			return seccompChoice{}, fmt.Errorf("a Localhost security profile needs localhost_ref: %w", errdefs.ErrInvalidArgument)
		}
		return seccompChoice{kind: p.GetProfileType(), ref: p.GetLocalhostRef()}, nil
	}
	switch {
	case legacy == "", legacy == profileUnconfined:
		return seccompChoice{none: true}, nil
	case legacy == profileRuntimeDefault, legacy == profileDockerDefault:
		return seccompChoice{kind: runtimeapi.SecurityProfile_RuntimeDefault}, nil
	case strings.HasPrefix(legacy, profileLocalhostPfx) && len(legacy) > len(profileLocalhostPfx):
		return seccompChoice{kind: runtimeapi.SecurityProfile_Localhost, ref: strings.TrimPrefix(legacy, profileLocalhostPfx)}, nil
	}
	return seccompChoice{}, fmt.Errorf("security profile %q: want unconfined, runtime/default or localhost/<path>: %w", legacy, errdefs.ErrInvalidArgument)
}

// seccompProfile builds the seccomp filter for a process with the given
// capabilities. No profile, and Unconfined, mean no filter (the CRI
// default). runtime/default is defaultSeccompProfile. Localhost loads a
// profile in Docker's JSON format (a superset of the OCI form) from the
// node.
func seccompProfile(p *runtimeapi.SecurityProfile, legacy string, caps []string) (*specs.LinuxSeccomp, error) {
	c, err := chooseProfile(p, legacy)
	if err != nil || c.none {
		return nil, err
	}
	switch c.kind {
	case runtimeapi.SecurityProfile_Unconfined:
		return nil, nil
	case runtimeapi.SecurityProfile_RuntimeDefault:
		return defaultSeccompProfile(caps), nil
	case runtimeapi.SecurityProfile_Localhost:
		return loadSeccompProfile(c.ref, caps)
	}
	return nil, fmt.Errorf("seccomp profile type %v: %w", c.kind, errdefs.ErrInvalidArgument)
}

// dockerSeccomp is Docker's profile format: the OCI one plus per-rule
// "name", arch maps and capability/architecture conditions.
type dockerSeccomp struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet,omitempty"`
	Architectures    []specs.Arch             `json:"architectures,omitempty"`
	ArchMap          []dockerArchMap          `json:"archMap,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
	Syscalls         []dockerSyscall          `json:"syscalls,omitempty"`
}

type dockerArchMap struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

type dockerSyscall struct {
	Name     string                   `json:"name,omitempty"`
	Names    []string                 `json:"names,omitempty"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
	Args     []specs.LinuxSeccompArg  `json:"args,omitempty"`
	Includes dockerFilter             `json:"includes"`
	Excludes dockerFilter             `json:"excludes"`
}

type dockerFilter struct {
	Caps   []string `json:"caps,omitempty"`
	Arches []string `json:"arches,omitempty"`
}

// loadSeccompProfile reads a Localhost profile. kubelet sends its
// absolute path on the node.
func loadSeccompProfile(ref string, caps []string) (*specs.LinuxSeccomp, error) {
	if !filepath.IsAbs(ref) {
		return nil, fmt.Errorf("seccomp profile %q: localhost_ref must be an absolute path: %w", ref, errdefs.ErrInvalidArgument)
	}
	data, err := os.ReadFile(ref)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("seccomp profile %q does not exist: %w", ref, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading seccomp profile %q: %w", ref, err)
	}
	sc, err := parseSeccompProfile(data, caps, runtime.GOARCH)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %q: %w", ref, err)
	}
	return sc, nil
}

// parseSeccompProfile converts a Docker or OCI JSON profile for a process
// with caps on goarch, keeping only the rules whose conditions hold.
func parseSeccompProfile(data []byte, caps []string, goarch string) (*specs.LinuxSeccomp, error) {
	var d dockerSeccomp
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("not a seccomp profile: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if d.DefaultAction == "" {
		return nil, fmt.Errorf("defaultAction is missing: %w", errdefs.ErrInvalidArgument)
	}
	if len(d.Architectures) > 0 && len(d.ArchMap) > 0 {
		return nil, fmt.Errorf("architectures and archMap are mutually exclusive: %w", errdefs.ErrInvalidArgument)
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:    d.DefaultAction,
		DefaultErrnoRet:  d.DefaultErrnoRet,
		Architectures:    d.Architectures,
		Flags:            d.Flags,
		ListenerPath:     d.ListenerPath,
		ListenerMetadata: d.ListenerMetadata,
	}
	native := seccompArch(goarch)
	for _, m := range d.ArchMap {
		if m.Arch == native {
			out.Architectures = append([]specs.Arch{m.Arch}, m.SubArches...)
		}
	}
	for _, s := range d.Syscalls {
		if s.Name != "" && len(s.Names) > 0 {
			return nil, fmt.Errorf("a rule has both name and names: %w", errdefs.ErrInvalidArgument)
		}
		if !ruleApplies(s, caps, goarch) {
			continue
		}
		names := s.Names
		if s.Name != "" {
			names = []string{s.Name}
		}
		out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{Names: names, Action: s.Action, ErrnoRet: s.ErrnoRet, Args: s.Args})
	}
	return out, nil
}

func ruleApplies(s dockerSyscall, caps []string, goarch string) bool {
	hasCap := func(c string) bool { return slices.Contains(caps, normalizeCap(c)) }
	for _, c := range s.Includes.Caps {
		if !hasCap(c) {
			return false
		}
	}
	if len(s.Includes.Arches) > 0 && !slices.Contains(s.Includes.Arches, goarch) {
		return false
	}
	for _, c := range s.Excludes.Caps {
		if hasCap(c) {
			return false
		}
	}
	return !slices.Contains(s.Excludes.Arches, goarch)
}

// seccompArch maps a Go architecture to its native seccomp one.
func seccompArch(goarch string) specs.Arch {
	switch goarch {
	case "amd64":
		return specs.ArchX86_64
	case "386":
		return specs.ArchX86
	case "arm64":
		return specs.ArchAARCH64
	case "arm":
		return specs.ArchARM
	case "ppc64le":
		return specs.ArchPPC64LE
	case "s390x":
		return specs.ArchS390X
	case "riscv64":
		return specs.ArchRISCV64
	case "loong64":
		return specs.ArchLOONGARCH64
	}
	return ""
}
