package isolation

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeHost is a LinuxHost with a made-up node: paths resolve through
// links, mounts have the propagation set, devices exist as listed.
type fakeHost struct {
	links    map[string]string // symlink host path -> target
	exists   map[string]bool
	props    map[string]Propagation
	devices  map[string][]specs.LinuxDevice
	hostname string
	cgroups  CgroupSupport
	caps     []string
}

var _ LinuxHost = (*fakeHost)(nil)

func newFakeHost() *fakeHost {
	mode := os.FileMode(0o666)
	zero := uint32(0)
	return &fakeHost{
		links:  map[string]string{},
		exists: map[string]bool{"/data": true, "/data/sub": true, "/shared": true, "/slave": true},
		props:  map[string]Propagation{"/shared": PropagationShared, "/slave": PropagationSlave},
		devices: map[string][]specs.LinuxDevice{
			"/dev/fuse": {{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &zero, GID: &zero}},
			"/dev/snd": {
				{Path: "/dev/snd/controlC0", Type: "c", Major: 116, Minor: 0},
				{Path: "/dev/snd/pcmC0D0p", Type: "c", Major: 116, Minor: 16},
			},
			"/dev": {
				{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
				{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
			},
		},
		hostname: "node-1",
		cgroups:  FullCgroupSupport("2MB"),
		caps:     allLinuxCaps,
	}
}

func (h *fakeHost) ResolvePath(p string) (string, error) {
	if t, ok := h.links[p]; ok {
		p = t
	}
	if !h.exists[p] {
		return "", fmt.Errorf("host path %q does not exist: %w", p, errdefs.ErrNotFound)
	}
	return p, nil
}

func (h *fakeHost) MountPropagation(p string) (Propagation, error) { return h.props[p], nil }

func (h *fakeHost) Devices(p string) ([]specs.LinuxDevice, error) {
	d, ok := h.devices[p]
	if !ok {
		return nil, fmt.Errorf("device %q does not exist: %w", p, errdefs.ErrNotFound)
	}
	return append([]specs.LinuxDevice(nil), d...), nil
}

func (h *fakeHost) Hostname() (string, error) { return h.hostname, nil }

func (h *fakeHost) Cgroups() CgroupSupport { return h.cgroups }

func (h *fakeHost) Capabilities() ([]string, error) { return h.caps, nil }
