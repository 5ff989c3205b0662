package sandbox

import (
	"fmt"
	"path/filepath"

	"github.com/Microsoft/hcsshim"
)

// expandScratch grows the scratch disk of the layer folder scratch to
// size bytes (disk and volume), as containerd's Windows snapshotters do
// (plugins/snapshots/windows/cimfs.go, createScratchLayer).
func expandScratch(scratch string, size uint64) error {
	info := hcsshim.DriverInfo{HomeDir: filepath.Dir(scratch)}
	if err := hcsshim.ExpandScratchSize(info, filepath.Base(scratch), size); err != nil {
		return fmt.Errorf("expanding the container's scratch disk to %d bytes: %w", size, err)
	}
	return nil
}
