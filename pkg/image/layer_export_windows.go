package image

import (
	"context"
	"fmt"
	"io"

	"github.com/Microsoft/go-winio"
	"github.com/Microsoft/hcsshim/pkg/ociwclayer"
)

// exportLayer writes the Windows container layer dir as an OCI layer tar
// through ociwclayer, as containerd's Windows differ does; it reads the
// layer on top of its parents (immediate parent first, base last).
// Reading layer files with their security descriptors needs the backup
// privilege.
func exportLayer(ctx context.Context, dir string, parents []string, w io.Writer) error {
	if err := winio.EnableProcessPrivileges([]string{winio.SeBackupPrivilege, winio.SeRestorePrivilege}); err != nil {
		return fmt.Errorf("enabling backup and restore privileges: %w", err)
	}
	if err := ociwclayer.ExportLayerToTar(ctx, w, dir, parents); err != nil {
		return fmt.Errorf("exporting Windows layer %s: %w", dir, err)
	}
	return nil
}
