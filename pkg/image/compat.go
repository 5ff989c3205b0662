package image

import (
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/winversion"
)

// CheckRunnable returns nil when img can run in a pod of isolation iso
// on host h, else an error wrapping errdefs.ErrFailedPrecondition that
// names the builds that clash. CreateContainer calls it before starting
// anything, because a mismatched Windows build fails late and obscurely.
// For a process pod the image must suit the host build; in a hyperv pod
// it must suit the build of the pod's sandbox image, whose base layer the
// utility VM boots. sandbox is nil when img is that sandbox image, which
// then only has to be bootable on the host. A Windows image without
// os.version cannot be checked and is let through.
func CheckRunnable(h Host, iso config.Isolation, img, sandbox *Image) error {
	if img.Config.OS != "" && img.Config.OS != h.OS {
		return fmt.Errorf("image %s is for %s, the host runs %s: %w", img.ID, img.Config.OS, h.OS, errdefs.ErrFailedPrecondition)
	}
	if h.OS != "windows" || img.Config.OSVersion == "" {
		return nil
	}
	v, err := winversion.Parse(img.Config.OSVersion)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.ID, err)
	}
	if iso != config.IsolationHyperV {
		if err := winversion.CheckProcessIsolation(h.OSVersion, v); err != nil {
			return fmt.Errorf("image %s: %w", img.ID, err)
		}
		return nil
	}
	if sandbox == nil || sandbox.Config.OSVersion == "" {
		if !winversion.HyperVCompatible(h.OSVersion, v) {
			return fmt.Errorf("image %s: OS build %s is newer than host build %s, which cannot boot it: %w",
				img.ID, v, h.OSVersion, errdefs.ErrFailedPrecondition)
		}
		return nil
	}
	uvm, err := winversion.Parse(sandbox.Config.OSVersion)
	if err != nil {
		return fmt.Errorf("sandbox image %s: %w", sandbox.ID, err)
	}
	if err := winversion.CheckHyperVIsolation(uvm, v); err != nil {
		return fmt.Errorf("image %s: %w", img.ID, err)
	}
	return nil
}
