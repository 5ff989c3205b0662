package image

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContentStoreWrite(t *testing.T) {
	data := []byte("hello blob")
	good := digest.FromBytes(data)
	tests := []struct {
		name    string
		d       digest.Digest
		size    int64
		wantErr error
	}{
		{"verified", good, int64(len(data)), nil},
		{"unknown size", good, -1, nil},
		{"wrong digest", digest.FromString("other"), -1, errdefs.ErrDataLoss},
		{"wrong size", good, 3, errdefs.ErrDataLoss},
		{"invalid digest", digest.Digest("sha256:nothex"), -1, errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := openContentStore(t.TempDir())
			require.NoError(t, err)
			_, err = c.Write(tt.d, tt.size, bytes.NewReader(data))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.False(t, c.Has(tt.d))
				left, _ := os.ReadDir(c.ingestDir())
				assert.Empty(t, left, "a failed write leaves no ingest file")
				return
			}
			require.NoError(t, err)
			got, err := c.ReadAll(tt.d)
			require.NoError(t, err)
			assert.Equal(t, data, got)
			list, err := c.List()
			require.NoError(t, err)
			assert.Equal(t, []digest.Digest{tt.d}, list)
			require.NoError(t, c.Delete(tt.d))
			require.NoError(t, c.Delete(tt.d), "deleting twice is fine")
			_, err = c.Open(tt.d)
			assert.ErrorIs(t, err, errdefs.ErrNotFound)
		})
	}
}

// A crash in the middle of a download leaves a partial ingest file: the
// next start removes it and the blob is not visible.
func TestContentStorePartialDownloadCleanedAtStartup(t *testing.T) {
	root := t.TempDir()
	c, err := openContentStore(root)
	require.NoError(t, err)
	data := strings.Repeat("layer", 1000)
	d := digest.FromString(data)
	partial := filepath.Join(c.ingestDir(), d.Encoded()+"-deadbeef")
	require.NoError(t, os.WriteFile(partial, []byte(data[:100]), 0o600))
	assert.False(t, c.Has(d), "a partial download is never a blob")

	c, err = openContentStore(root)
	require.NoError(t, err)
	_, err = os.Stat(partial)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = c.Write(d, int64(len(data)), strings.NewReader(data))
	require.NoError(t, err)
	got, err := c.ReadAll(d)
	require.NoError(t, err)
	assert.Equal(t, data, string(got))
}
