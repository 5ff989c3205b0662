package crilog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveLogPath(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "adir.log"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "out")))
	require.NoError(t, os.Symlink("../..", filepath.Join(dir, "app", "up")))
	require.NoError(t, os.Symlink("app", filepath.Join(dir, "in")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "x.log"), filepath.Join(dir, "abs.log")))
	require.NoError(t, os.Symlink("../../etc/passwd", filepath.Join(dir, "rel.log")))

	tests := []struct {
		name    string
		dir     string
		path    string
		want    string
		wantErr bool
	}{
		{name: "kubelet layout", dir: dir, path: "app/0.log", want: filepath.Join(dir, "app", "0.log")},
		{name: "parent not created yet", dir: dir, path: "new/1.log", want: filepath.Join(dir, "new", "1.log")},
		{name: "dot dot that stays inside", dir: dir, path: "app/../0.log", want: filepath.Join(dir, "0.log")},
		{name: "symlink that stays inside", dir: dir, path: "in/0.log", want: filepath.Join(dir, "in", "0.log")},
		{name: "directory does not exist yet", dir: filepath.Join(dir, "missing"), path: "0.log", want: filepath.Join(dir, "missing", "0.log")},
		{name: "empty path", dir: dir, path: "", wantErr: true},
		{name: "absolute path", dir: dir, path: "/var/log/x.log", wantErr: true},
		{name: "climbs out", dir: dir, path: "../x.log", wantErr: true},
		{name: "climbs out late", dir: dir, path: "app/../../x.log", wantErr: true},
		{name: "directory itself", dir: dir, path: "app/..", wantErr: true},
		{name: "dot", dir: dir, path: ".", wantErr: true},
		{name: "names a directory", dir: dir, path: "adir.log", wantErr: true},
		{name: "NUL byte", dir: dir, path: "a\x00.log", wantErr: true},
		{name: "relative directory", dir: "var/log", path: "0.log", wantErr: true},
		{name: "empty directory", dir: "", path: "0.log", wantErr: true},
		{name: "symlinked parent escapes", dir: dir, path: "out/0.log", wantErr: true},
		{name: "nested symlink escapes", dir: dir, path: "app/up/x.log", wantErr: true},
		{name: "file symlink to absolute target", dir: dir, path: "abs.log", wantErr: true},
		{name: "file symlink climbing out", dir: dir, path: "rel.log", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveLogPath(tt.dir, tt.path)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
