package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"
)

func TestTrash(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	tr := newTrash(klog.Background(), root, state)

	bundle := filepath.Join(state, "containers", "c1")
	require.NoError(t, os.MkdirAll(bundle, 0o755))
	require.NoError(t, tr.remove(bundle))
	assert.NoDirExists(t, bundle)
	layer := filepath.Join(root, "containers", "c1")
	require.NoError(t, os.MkdirAll(filepath.Join(layer, "upper", "deep"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(layer, "upper", "deep", "f"), []byte("x"), 0o644))
	require.NoError(t, tr.remove(layer))
	assert.NoDirExists(t, layer, "gone at once")
	require.NoError(t, tr.remove(layer), "removing what is gone succeeds")
	tr.wait()
	for _, base := range []string{root, state} {
		entries, err := os.ReadDir(filepath.Join(base, trashDir))
		require.NoError(t, err, "each tree has its trash")
		assert.Empty(t, entries, "deleted in the background")
	}

	// What a crash left in the trash is emptied at the next start.
	left := filepath.Join(root, trashDir, "left-by-a-crash")
	require.NoError(t, os.MkdirAll(filepath.Join(left, "upper"), 0o755))
	tr.empty()
	tr.wait()
	assert.NoDirExists(t, left)
}

// A directory that cannot be moved into a trash (the trash cannot be
// made, or it is in no tree of the trash) is removed at once.
func TestTrashFallsBackToRemoval(t *testing.T) {
	root, other := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, trashDir), nil, 0o600))
	tr := newTrash(klog.Background(), root)
	for _, dir := range []string{filepath.Join(root, "c2"), filepath.Join(other, "c3")} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "upper"), 0o755))
		require.NoError(t, tr.remove(dir))
		assert.NoDirExists(t, dir)
	}
}
