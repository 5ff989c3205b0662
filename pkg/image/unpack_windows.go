package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/Microsoft/go-winio"
	"github.com/Microsoft/hcsshim/computestorage"
	"github.com/Microsoft/hcsshim/pkg/ociwclayer"
)

// unpackLayer imports one OCI layer tar into dir as a Windows container
// layer. parents are the layer folders below it, immediate parent first
// and base last, which must be imported already; ociwclayer converts
// whiteouts and, for a base layer, creates blank.vhdx and the UtilityVM
// folder that Hyper-V pods boot from. Writing layer files with their
// security descriptors needs the backup and restore privileges.
func unpackLayer(ctx context.Context, dir string, parents []string, r io.Reader) (layerUsage, error) {
	if err := winio.EnableProcessPrivileges([]string{winio.SeBackupPrivilege, winio.SeRestorePrivilege}); err != nil {
		return layerUsage{}, fmt.Errorf("enabling backup and restore privileges: %w", err)
	}
	n, err := ociwclayer.ImportLayerFromTar(ctx, r, dir, parents)
	if err != nil {
		return layerUsage{}, fmt.Errorf("importing Windows layer: %w", err)
	}
	usage := layerUsage{Bytes: n}
	_ = filepath.WalkDir(dir, func(string, fs.DirEntry, error) error {
		usage.Inodes++
		return nil
	})
	return usage, nil
}

// removeLayerDir deletes a Windows layer through the HCS, which knows how
// to remove the files that the layer's ACLs protect.
func removeLayerDir(ctx context.Context, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return computestorage.DestroyLayer(ctx, dir)
}

// unpackNeedsParents is true: a Windows layer is imported on top of its
// parents, which must be imported first.
const unpackNeedsParents = true

// syncLayer adds nothing on Windows: the layer import writes the layer
// through the Host Compute Service's own backup APIs.
func syncLayer(string) error { return nil }
