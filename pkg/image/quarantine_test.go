//go:build !windows

package image

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/store"
)

// TestUnreadableRecordsAreSetAside: an image or layer record that does not
// decode is moved to the store's quarantine when the service opens, so
// that listings keep working; the good records stay.
func TestUnreadableRecordsAreSetAside(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Update(func(tx *store.Tx) error {
		if err := tx.Put(bucketImages, "sha256:good", Image{ID: "sha256:good", RepoTags: []string{"example.test/good:1"}}); err != nil {
			return err
		}
		if err := tx.Put(bucketImages, "sha256:bad", []string{"not", "an", "image"}); err != nil {
			return err
		}
		return tx.Put(bucketLayers, "sha256:badlayer", 42)
	}))

	s := reopenService(t, dir, st, linuxHost(), nil)

	imgs, err := s.List(t.Context())
	require.NoError(t, err)
	require.Len(t, imgs, 1)
	assert.Equal(t, "sha256:good", imgs[0].ID)
	_, err = s.FsInfo(t.Context())
	require.NoError(t, err)
	q, err := st.QuarantinedRecords()
	require.NoError(t, err)
	require.Len(t, q, 2)
	assert.Equal(t, bucketImages, q[0].Bucket)
	assert.Equal(t, bucketLayers, q[1].Bucket)
}
