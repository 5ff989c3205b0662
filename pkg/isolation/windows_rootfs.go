package isolation

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/shim"
)

// Windows rootfs mount shape that containerd-shim-runhcs-v1 accepts as a
// task's Rootfs.
const (
	WindowsLayerMountType  = "windows-layer"
	parentLayerPathsOption = "parentLayerPaths="
)

// WindowsLayers are the layer folders of a Windows container's root
// filesystem.
type WindowsLayers struct {
	// Scratch is the container's writable layer folder.
	Scratch string
	// Parents are the image's read-only layer folders, the immediate
	// parent (topmost layer) first and the base layer last: the reverse
	// of the order of an image manifest. LayersFromManifest converts.
	Parents []string
}

// LayersFromManifest returns the layers of a container whose scratch
// folder is scratch and whose image layers, in manifest order (base
// first), unpacked to manifestOrder.
func LayersFromManifest(scratch string, manifestOrder []string) WindowsLayers {
	parents := slices.Clone(manifestOrder)
	slices.Reverse(parents)
	return WindowsLayers{Scratch: scratch, Parents: parents}
}

// WindowsRootfs returns the single windows-layer mount that gives a task
// its root filesystem: no target, the scratch folder as source, options
// "rw" and parentLayerPaths. The spec of such a task must not carry
// Windows.LayerFolders. Errors wrap errdefs.ErrInvalidArgument.
func WindowsRootfs(l WindowsLayers) ([]shim.Mount, error) {
	if !windowsAbs(l.Scratch) {
		return nil, fmt.Errorf("windows rootfs: scratch layer %q is not an absolute Windows path: %w", l.Scratch, errdefs.ErrInvalidArgument)
	}
	if len(l.Parents) == 0 {
		// Even a scratch-only image has its base layer below.
		return nil, fmt.Errorf("windows rootfs: no parent layers; a Windows root filesystem needs at least its base layer: %w", errdefs.ErrInvalidArgument)
	}
	for _, p := range l.Parents {
		if !windowsAbs(p) {
			return nil, fmt.Errorf("windows rootfs: parent layer %q is not an absolute Windows path: %w", p, errdefs.ErrInvalidArgument)
		}
	}
	parents, err := json.Marshal(l.Parents)
	if err != nil {
		return nil, fmt.Errorf("windows rootfs: encoding parent layers: %w", err)
	}
	return []shim.Mount{{
		Type:    WindowsLayerMountType,
		Source:  l.Scratch,
		Options: []string{"rw", parentLayerPathsOption + string(parents)},
	}}, nil
}

// windowsAbs reports whether p is an absolute Windows path: a drive
// path (C:\...) or a UNC or device path (\\server\share, \\?\...). It is
// written out because path/filepath only knows the running OS's rules.
func windowsAbs(p string) bool {
	if len(p) >= 3 && isDriveLetter(p[0]) && p[1] == ':' && isWindowsSep(p[2]) {
		return true
	}
	return len(p) > 2 && isWindowsSep(p[0]) && isWindowsSep(p[1]) && !strings.ContainsAny(p[2:3], `\/`)
}

func isDriveLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isWindowsSep(c byte) bool { return c == '\\' || c == '/' }
