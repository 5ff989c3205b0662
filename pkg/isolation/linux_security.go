package isolation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const capAll = "ALL"

// normalizeCap turns the CRI's "net_admin" / "NET_ADMIN" into runc's
// "CAP_NET_ADMIN".
func normalizeCap(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c == capAll || strings.HasPrefix(c, "CAP_") {
		return c
	}
	return "CAP_" + c
}

// applyCapabilities sets the process capabilities from the CRI request on
// top of the default set, the way Docker and containerd do: ALL in add
// grants every capability, ALL in drop starts from none, then the named
// ones are added and dropped. "Every capability" is every one wincri
// itself holds (held): runc cannot hand out more, and fails the start if
// asked to. An unknown name is an error rather than a capability silently
// missing at run time.
func applyCapabilities(spec *specs.Spec, c *runtimeapi.Capability, privileged bool, held []string) error {
	caps := append([]string(nil), defaultLinuxCaps...)
	if privileged {
		caps = append([]string(nil), held...)
	}
	norm := func(field string, in []string) ([]string, bool, error) {
		var out []string
		all := false
		for _, raw := range in {
			n := normalizeCap(raw)
			switch {
			case n == capAll:
				all = true
			case slices.Contains(allLinuxCaps, n):
				out = append(out, n)
			default:
				return nil, false, fmt.Errorf("capabilities.%s: unknown capability %q: %w", field, raw, errdefs.ErrInvalidArgument)
			}
		}
		return out, all, nil
	}
	add, addAll, err := norm("add_capabilities", c.GetAddCapabilities())
	if err != nil {
		return err
	}
	drop, dropAll, err := norm("drop_capabilities", c.GetDropCapabilities())
	if err != nil {
		return err
	}
	ambient, ambientAll, err := norm("add_ambient_capabilities", c.GetAddAmbientCapabilities())
	if err != nil {
		return err
	}
	if ambientAll {
		return fmt.Errorf("capabilities.add_ambient_capabilities: ALL is not allowed, name each one: %w", errdefs.ErrInvalidArgument)
	}
	if !privileged { // a privileged container keeps everything
		if addAll {
			caps = append([]string(nil), held...)
		}
		if dropAll {
			caps = nil
		}
		for _, a := range add {
			if !slices.Contains(held, a) {
				return fmt.Errorf("capabilities.add_capabilities: %s is not held by the runtime itself, so no container can be given it: %w", a, errdefs.ErrFailedPrecondition)
			}
			if !slices.Contains(caps, a) {
				caps = append(caps, a)
			}
		}
		caps = slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(drop, c) })
	}
	caps = slices.DeleteFunc(caps, func(c string) bool { return !slices.Contains(held, c) })
	pc := spec.Process.Capabilities
	pc.Bounding = caps
	pc.Effective = slices.Clone(caps)
	pc.Permitted = slices.Clone(caps)
	pc.Inheritable, pc.Ambient = nil, nil
	// An ambient capability must also be inheritable and permitted, and
	// may only be one the container holds at all.
	for _, a := range ambient {
		if !slices.Contains(caps, a) {
			return fmt.Errorf("capabilities.add_ambient_capabilities: %s is not in the container's capability set: %w", a, errdefs.ErrInvalidArgument)
		}
		pc.Ambient = append(pc.Ambient, a)
		pc.Inheritable = append(pc.Inheritable, a)
	}
	return nil
}

// applyPrivileged lifts the restrictions of an unprivileged container:
// every host device, no masked or read-only paths, writable /sys and
// cgroup tree, device cgroup open. Capabilities are set by
// applyCapabilities; seccomp and AppArmor are skipped by the caller.
func applyPrivileged(spec *specs.Spec, host LinuxHost) error {
	devs, err := host.Devices("/dev")
	if err != nil {
		return fmt.Errorf("listing host devices for a privileged container: %w", err)
	}
	spec.Linux.Devices = append(spec.Linux.Devices, devs...)
	spec.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	for i, m := range spec.Mounts {
		if m.Type == "sysfs" || m.Type == "cgroup" {
			spec.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			spec.Mounts[i].Options = append(spec.Mounts[i].Options, "rw")
		}
	}
	return nil
}

// applyPaths sets masked and read-only paths. kubelet sends the defaults
// itself for the Default proc mount and nothing for Unmasked; since an
// empty list cannot be told from an absent one on the wire, an empty list
// keeps the defaults (as in containerd).
func applyPaths(spec *specs.Spec, sc *runtimeapi.LinuxContainerSecurityContext) error {
	for _, set := range []struct {
		field string
		in    []string
		dst   *[]string
	}{
		{"masked_paths", sc.GetMaskedPaths(), &spec.Linux.MaskedPaths},
		{"readonly_paths", sc.GetReadonlyPaths(), &spec.Linux.ReadonlyPaths},
	} {
		if len(set.in) == 0 {
			continue
		}
		for _, p := range set.in {
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("%s: %q is not an absolute path: %w", set.field, p, errdefs.ErrInvalidArgument)
			}
		}
		*set.dst = slices.Clone(set.in)
	}
	return nil
}

// apparmorProfile picks the AppArmor profile name for runc. Only a
// Localhost profile names one; runtime/default and unconfined leave the
// process as AppArmor finds it, since wincri loads no profile of its own.
func apparmorProfile(p *runtimeapi.SecurityProfile, legacy string) (string, error) {
	c, err := chooseProfile(p, legacy)
	if err != nil || c.none || c.kind != runtimeapi.SecurityProfile_Localhost {
		return "", err
	}
	return c.ref, nil
}
