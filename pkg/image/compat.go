package image

import (
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/winversion"
)

// CheckRunnable returns nil when a pod of target t on host h can run img,
// else an error wrapping errdefs.ErrFailedPrecondition. CreateContainer
// calls it before starting anything, because a mismatched Windows build
// fails late and obscurely. A process pod's images must suit the host's
// build; a hyperv pod's must suit its utility VM's, the build of the
// sandbox image variant the VM boots. The error names the builds the
// image's index offers, the host's and the handler's, and, from
// handlers, the handlers that can run it. A Windows image without
// os.version cannot be checked and is let through.
func CheckRunnable(h Host, t Target, img *Image, handlers []Target) error {
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
	if t.accepts(h, v) {
		return nil
	}
	return fmt.Errorf("image %s is Windows build %s, and %w", img.ID, v, mismatchError(h, t, img.offeredBuilds(h), handlers))
}
