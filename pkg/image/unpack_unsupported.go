//go:build !linux && !windows

package image

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// mknodAt fails: overlay whiteouts are 0/0 character devices, and layers
// hold device nodes and FIFOs, which this unpacker creates with
// mknodat(2) on Linux only.
func mknodAt(int, string, uint32, int64, int64) error {
	return fmt.Errorf("unpacking device nodes is supported on Linux and Windows only: %w", errdefs.ErrNotImplemented)
}

// listXattrs reports no extended attributes: exporting them is
// implemented on Linux only.
func listXattrs(string) (map[string]string, error) { return nil, nil }

// syncLayer has no syncfs here; unpacking is not supported anyway.
func syncLayer(string) error { return nil }
