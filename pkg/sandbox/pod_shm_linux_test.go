package sandbox

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wincri/wincri/internal/testutil"
)

func TestMountPodShm(t *testing.T) {
	testutil.RequireRoot(t)
	path := filepath.Join(t.TempDir(), "shm")
	t.Cleanup(func() { _ = unix.Unmount(path, unix.MNT_DETACH) })

	require.NoError(t, mountPodShm(path))
	require.NoError(t, mountPodShm(path), "mounting twice is a no-op")
	var fs unix.Statfs_t
	require.NoError(t, unix.Statfs(path, &fs))
	assert.Equal(t, int64(unix.TMPFS_MAGIC), int64(fs.Type))
	mounted, err := isMountPoint(path)
	require.NoError(t, err)
	assert.True(t, mounted)

	require.NoError(t, unmountPodShm(path))
	require.NoError(t, unmountPodShm(path), "unmounting twice is a no-op")
	mounted, err = isMountPoint(path)
	require.NoError(t, err)
	assert.False(t, mounted)
	require.NoError(t, unmountPodShm(filepath.Join(path, "gone")))
}
