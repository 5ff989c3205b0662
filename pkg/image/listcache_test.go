//go:build !windows

package image

import (
	"strconv"

	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/store"
)

// The list is decoded again only after the store changed, and every
// caller gets its own copy.
func TestListCache(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	put := func(id string) {
		require.NoError(t, st.Update(func(tx *store.Tx) error {
			return tx.Put(bucketImages, id, &Image{ID: id, RepoTags: []string{id + ":1"}})
		}))
	}
	var c listCache
	loads := 0
	list := func() []Image {
		var out []Image
		require.NoError(t, st.View(func(tx *store.Tx) error {
			var err error
			out, err = c.get(tx, func() ([]Image, error) {
				loads++
				return store.List[Image](tx, bucketImages)
			})
			return err
		}))
		return out
	}
	put("a")
	first := list()
	require.Len(t, first, 1)
	first[0].RepoTags[0] = "changed by a caller"
	again := list()
	assert.Equal(t, 1, loads, "no write, no decoding")
	assert.Equal(t, []string{"a:1"}, again[0].RepoTags, "a caller's change stays its own")

	put("b")
	assert.Len(t, list(), 2, "a write is seen at once")
	assert.Equal(t, 2, loads)
}

// BenchmarkList lists 30 images, the store unchanged between calls, as
// kubelet's periodic ListImages does.
func BenchmarkList(b *testing.B) {
	s := newTestService(b, linuxHost(), nil)
	for i := range 30 {
		id := digest.FromString(strconv.Itoa(i)).String()
		img := &Image{ID: id, RepoTags: []string{"example.invalid/app:" + strconv.Itoa(i)}, ChainIDs: []string{id}}
		img.Config.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
		require.NoError(b, s.store.Update(func(tx *store.Tx) error { return tx.Put(bucketImages, img.ID, img) }))
	}
	b.ResetTimer()
	for range b.N {
		imgs, err := s.List(b.Context())
		if err != nil || len(imgs) != 30 {
			b.Fatal(err, len(imgs))
		}
	}
}
