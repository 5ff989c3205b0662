package isolation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Propagation is the propagation type of a host mount.
type Propagation int

// Mount propagation types, as /proc/self/mountinfo reports them.
const (
	PropagationPrivate Propagation = iota
	PropagationShared
	PropagationSlave
)

// LinuxHost is what the Linux container spec builder asks of the node.
// NodeHost answers from the running node; tests use a fake.
type LinuxHost interface {
	// ResolvePath resolves the symlinks of a bind-mount source; a path
	// that does not exist is an errdefs.ErrNotFound.
	ResolvePath(p string) (string, error)
	// MountPropagation reports the propagation of the mount holding p.
	MountPropagation(p string) (Propagation, error)
	// Devices returns the device node at p, or every device node below p
	// when it is a directory, each with its host path.
	Devices(p string) ([]specs.LinuxDevice, error)
	// Hostname is the node's host name, for host-network pods.
	Hostname() (string, error)
	// Cgroups reports which limits the node's cgroup hierarchy enforces.
	Cgroups() CgroupSupport
	// Capabilities lists the capabilities wincri itself holds: runc can
	// grant a container no others, so "all capabilities" means these.
	Capabilities() ([]string, error)
}

// NodeHost is the LinuxHost of the machine wincri runs on.
type NodeHost struct{}

var _ LinuxHost = NodeHost{}

// ResolvePath implements LinuxHost.
func (NodeHost) ResolvePath(p string) (string, error) {
	r, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("host path %q does not exist: %w", p, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("resolving host path %q: %w", p, err)
	}
	return r, nil
}

// MountPropagation implements LinuxHost.
func (NodeHost) MountPropagation(p string) (Propagation, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return PropagationPrivate, fmt.Errorf("reading the mount table: %w", err)
	}
	return propagationOf(string(data), p)
}

// Devices implements LinuxHost.
func (NodeHost) Devices(p string) ([]specs.LinuxDevice, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("device %q does not exist: %w", p, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		d, err := deviceFromPath(p)
		if err != nil {
			return nil, err
		}
		return []specs.LinuxDevice{d}, nil
	}
	var out []specs.LinuxDevice
	err = filepath.WalkDir(p, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if path != p && skipDevDir[e.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if e.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 || path == "/dev/console" {
			return nil // sockets, symlinks, files; the console is the host's
		}
		d, err := deviceFromPath(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // hot-unplugged while walking
		}
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// skipDevDir are /dev subdirectories a container gets its own of, or that
// hold no device nodes of the host worth passing.
var skipDevDir = map[string]bool{"pts": true, "shm": true, "fd": true, "mqueue": true, ".lxc": true, ".lxd-mounts": true, ".udev": true}

// Hostname implements LinuxHost.
func (NodeHost) Hostname() (string, error) { return os.Hostname() }

// Cgroups implements LinuxHost from /sys.
func (NodeHost) Cgroups() CgroupSupport {
	return DetectCgroupSupport("/sys/fs/cgroup", "/sys/kernel/mm/hugepages")
}

// Capabilities implements LinuxHost from the effective set in
// /proc/self/status.
func (NodeHost) Capabilities() ([]string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("reading the daemon's capabilities: %w", err)
	}
	return capsFromStatus(string(data))
}

// capsFromStatus decodes the CapEff mask of a /proc/<pid>/status file.
// Bit n is the capability allLinuxCaps[n]; bits of capabilities newer
// than that list are ignored.
func capsFromStatus(status string) ([]string, error) {
	for _, line := range strings.Split(status, "\n") {
		hex, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("parsing CapEff %q: %w", strings.TrimSpace(hex), err)
		}
		var caps []string
		for bit, name := range allLinuxCaps {
			if mask&(1<<uint(bit)) != 0 {
				caps = append(caps, name)
			}
		}
		return caps, nil
	}
	return nil, fmt.Errorf("no CapEff line in the process status: %w", errdefs.ErrNotFound)
}

// propagationOf finds the mount that holds p (the longest mount point
// that is p or a parent of it) in a mountinfo table and reports its
// propagation from the optional fields: shared:N, master:N.
func propagationOf(mountinfo, p string) (Propagation, error) {
	best, bestLen := "", -1
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		mp := unescapeMountPoint(f[4])
		if !pathWithin(p, mp) || len(mp) <= bestLen {
			continue
		}
		best, bestLen = line, len(mp)
	}
	if bestLen < 0 {
		return PropagationPrivate, fmt.Errorf("no mount holds %q: %w", p, errdefs.ErrNotFound)
	}
	prop := PropagationPrivate
	for _, opt := range strings.Fields(best)[6:] {
		if opt == "-" {
			break
		}
		switch {
		case strings.HasPrefix(opt, "shared:"):
			return PropagationShared, nil
		case strings.HasPrefix(opt, "master:"):
			prop = PropagationSlave
		}
	}
	return prop, nil
}

// unescapeMountPoint undoes the kernel's octal escapes (\040 for a space).
func unescapeMountPoint(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}
