package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrepareHostPath(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	require.NoError(t, os.Mkdir(existing, 0o700))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(existing, link))
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name, path, want string
		wantErr          bool
	}{
		{name: "existing directory", path: existing, want: existing},
		{name: "existing file", path: file, want: file},
		{name: "missing directories are created", path: filepath.Join(dir, "a", "b"), want: filepath.Join(dir, "a", "b")},
		{name: "link resolved", path: link, want: existing},
		{name: "below a file", path: filepath.Join(file, "x"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prepareHostPath(tt.path)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.DirExists(t, filepath.Dir(got))
			_, err = os.Stat(got)
			assert.NoError(t, err)
		})
	}
}
