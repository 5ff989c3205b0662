package image

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wincri/wincri/internal/testutil"
)

// A leftover layer directory that cannot be removed does not stop the
// image service from starting: it is quarantined, and the next start
// removes it once it can (issue 17: under Wine, a failed layer import
// left a directory that made every later start fail with "removing
// unfinished layers"). Here the directory holds a mount, so removing it
// fails with EBUSY as a held file does on Windows.
func TestStartWithAnUnremovableLeftoverLayer(t *testing.T) {
	testutil.RequireRoot(t)
	ts := newTestService(t, Host{OS: "linux", Architecture: "amd64"}, nil)
	dir := filepath.Dir(ts.root)
	leftover := filepath.Join(ts.root, "layers", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	busy := filepath.Join(leftover, "busy")
	require.NoError(t, os.MkdirAll(busy, 0o700))
	require.NoError(t, unix.Mount("tmpfs", busy, "tmpfs", 0, ""))
	t.Cleanup(func() { _ = unix.Unmount(busy, unix.MNT_DETACH) })

	reopenService(t, dir, ts.store, ts.host, nil)
	recs, err := ts.store.QuarantinedRecords()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "leftover:layer", recs[0].Bucket)
	assert.Equal(t, leftover, recs[0].Key)
	assert.DirExists(t, leftover)

	require.NoError(t, unix.Unmount(busy, 0))
	reopenService(t, dir, ts.store, ts.host, nil)
	assert.NoDirExists(t, leftover, "removed at the next start")
	assert.Equal(t, 0, ts.store.QuarantinedCount())
}
