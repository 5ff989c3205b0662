package isolation

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// windowsPipePrefix marks a named pipe path; hcsshim maps a mount whose
// destination starts with it as a pipe, comparing case-sensitively.
const windowsPipePrefix = `\\.\pipe\`

// HostPathFunc prepares a mount's host path and returns the path to
// mount. On a node it does what containerd's parseMount does
// (internal/cri/opts/spec_windows_opts.go): a missing path is created as a
// directory, which kubelet relies on, and symbolic links are resolved.
// The builders take it so that they stay pure and testable.
type HostPathFunc func(path string) (string, error)

// windowsMounts converts CRI mounts of a Windows container. Host
// directories and files become mapped directories; host named pipes
// (\\.\pipe\NAME) become mapped pipes and are never opened, as opening a
// pipe would take a connection from the process serving it. hostPath,
// when not nil, prepares the other host paths.
func windowsMounts(mounts []*runtimeapi.Mount, hostPath HostPathFunc) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, m := range mounts {
		sm, err := windowsMount(m, hostPath)
		if err != nil {
			return nil, fmt.Errorf("mount %q: %w", m.GetContainerPath(), err)
		}
		out = append(out, sm)
	}
	return out, nil
}

func windowsMount(m *runtimeapi.Mount, hostPath HostPathFunc) (specs.Mount, error) {
	switch {
	case m.GetImage() != nil:
		return specs.Mount{}, invalidArg("image volumes are not supported for Windows containers")
	case m.GetContainerPath() == "" || m.GetHostPath() == "":
		return specs.Mount{}, invalidArg("a mount needs a host path and a container path")
	case m.GetPropagation() != runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return specs.Mount{}, invalidArg("Windows containers do not support mount propagation (%s)", m.GetPropagation())
	case len(m.GetMountOptions()) > 0:
		return specs.Mount{}, invalidArg("Windows containers do not support mount options %q", m.GetMountOptions())
	case len(m.GetUidMappings()) > 0 || len(m.GetGidMappings()) > 0:
		return specs.Mount{}, invalidArg("Windows containers do not support ID-mapped mounts")
	}
	opts := []string{"rw"}
	if m.GetReadonly() || m.GetRecursiveReadOnly() {
		// Windows mapped directories are read-only as a whole, so a
		// read-only mount is recursively read-only too.
		opts = []string{"ro"}
	}

	hostPipe, containerPipe := isWindowsPipe(m.GetHostPath()), isWindowsPipe(m.GetContainerPath())
	switch {
	case hostPipe && containerPipe:
		return specs.Mount{
			Source:      windowsPipePrefix + m.GetHostPath()[len(windowsPipePrefix):],
			Destination: windowsPipePrefix + m.GetContainerPath()[len(windowsPipePrefix):],
			Options:     opts,
		}, nil
	case hostPipe || containerPipe:
		return specs.Mount{}, invalidArg("a named pipe mounts only onto a named pipe path (%s)", windowsPipePrefix+"NAME")
	}

	src, ok := cleanWindowsPath(m.GetHostPath())
	if !ok {
		return specs.Mount{}, invalidArg("host path %q is not an absolute Windows path", m.GetHostPath())
	}
	dst, err := windowsMountDestination(m.GetContainerPath())
	if err != nil {
		return specs.Mount{}, err
	}
	if hostPath != nil {
		resolved, err := hostPath(src)
		if err != nil {
			return specs.Mount{}, fmt.Errorf("host path %q: %w", src, err)
		}
		if src, ok = cleanWindowsPath(resolved); !ok {
			return specs.Mount{}, fmt.Errorf("host path %q resolves to %q, which is not an absolute Windows path: %w", m.GetHostPath(), resolved, errdefs.ErrFailedPrecondition)
		}
	}
	return specs.Mount{Source: src, Destination: dst, Options: opts}, nil
}

// windowsMountDestination normalises a container path: a path without a
// drive lands on C:, a bare drive letter (D:) maps a whole volume, which
// cannot be the container's own system drive.
func windowsMountDestination(p string) (string, error) {
	if len(p) == 2 && isDriveLetter(p[0]) && p[1] == ':' {
		if p[0] == 'c' || p[0] == 'C' {
			return "", invalidArg("container path %q is the container's system drive", p)
		}
		return strings.ToUpper(p[:1]) + ":", nil
	}
	if isWindowsSep(p[0]) && (len(p) == 1 || !isWindowsSep(p[1])) {
		p = "C:" + p
	}
	dst, ok := cleanWindowsPath(p)
	if !ok {
		return "", invalidArg("container path %q is not an absolute Windows path", p)
	}
	return dst, nil
}

// cleanWindowsPath returns the clean form of an absolute Windows drive
// path: backslashes only, no empty, "." or ".." elements, no trailing
// separator except after the drive. HCS rejects paths in any other form.
// UNC and device paths are returned unchanged. ok is false for a path
// that is not absolute.
func cleanWindowsPath(p string) (string, bool) {
	if !windowsAbs(p) {
		return "", false
	}
	if isWindowsSep(p[0]) {
		return p, true
	}
	var elems []string
	for _, e := range strings.FieldsFunc(p[3:], func(r rune) bool { return r == '\\' || r == '/' }) {
		switch e {
		case ".":
		case "..":
			if len(elems) > 0 {
				elems = elems[:len(elems)-1]
			}
		default:
			elems = append(elems, e)
		}
	}
	return strings.ToUpper(p[:1]) + `:\` + strings.Join(elems, `\`), true
}

func isWindowsPipe(p string) bool {
	return len(p) > len(windowsPipePrefix) &&
		strings.EqualFold(strings.ReplaceAll(p[:len(windowsPipePrefix)], "/", `\`), windowsPipePrefix)
}

// windowsDevices converts CRI devices of a Windows container. A Windows
// device is named by an ID type and an ID ("class/GUID" or "class://GUID"
// for an interface class, "vpci-location-path://PATH" and so on), not
// mounted at a path, so container_path and permissions must be empty.
func windowsDevices(devices []*runtimeapi.Device) ([]specs.WindowsDevice, error) {
	var out []specs.WindowsDevice
	for _, d := range devices {
		if d.GetContainerPath() != "" || d.GetPermissions() != "" {
			return nil, fmt.Errorf("device %q: Windows devices take no container_path or permissions (got %q, %q): %w",
				d.GetHostPath(), d.GetContainerPath(), d.GetPermissions(), errdefs.ErrInvalidArgument)
		}
		idType, id, ok := strings.Cut(d.GetHostPath(), "://")
		if !ok {
			idType, id, ok = strings.Cut(d.GetHostPath(), "/")
			ok = ok && idType == "class"
		}
		if !ok || idType == "" || id == "" {
			return nil, fmt.Errorf("device %q: host_path must be IDTYPE://ID or class/GUID: %w", d.GetHostPath(), errdefs.ErrInvalidArgument)
		}
		out = append(out, specs.WindowsDevice{IDType: idType, ID: id})
	}
	return out, nil
}
