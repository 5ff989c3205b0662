package image

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// unremovable makes dir a directory that cannot be removed: it holds a
// mount, so removing it fails with EBUSY as a held file or a broken
// import does on Windows. Moving dir elsewhere works, as on Windows.
func unremovable(t *testing.T, dir string) {
	t.Helper()
	busy := filepath.Join(dir, "busy")
	require.NoError(t, os.MkdirAll(busy, 0o700))
	require.NoError(t, unix.Mount("tmpfs", busy, "tmpfs", 0, ""))
	t.Cleanup(func() {
		// The directory may have been moved aside since.
		matches, _ := filepath.Glob(dir + "*/busy")
		for _, m := range matches {
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
	})
}

// A pull whose layer directory is left over from an earlier unpack that
// could not be removed goes on: the directory is moved aside and
// quarantined, and the layer is unpacked afresh. Under Wine, where a
// failed import leaves an undeletable directory, every later pull of the
// layer failed with "removing partial layer: failed to destroy layer"
// instead (issue 17).
func TestPullOverAnUnremovablePartialLayer(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	layer := layerOf(t, file{name: "a", body: "a"})
	ref := reg.push(t, "partial/app:1", imageOf(t, "linux", "amd64", "", layer))
	ts := newTestService(t, linuxHost(), nil)
	diffID, err := layer.DiffID()
	require.NoError(t, err)
	dir := ts.layers.dir(diffID.String()) // a base layer's chain id is its diff id
	unremovable(t, dir)

	_, err = ts.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "a"))
	recs, err := ts.store.QuarantinedRecords()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "leftover:layer", recs[0].Bucket)
	assert.True(t, strings.HasPrefix(recs[0].Key, dir+".leftover-"), recs[0].Key)
	assert.DirExists(t, recs[0].Key)
}

// A failed unpack reports its own error, not the failure to remove what
// it left; what it left is quarantined, and a retry of the pull works.
func TestFailedUnpackReportsItsOwnError(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	ref := reg.push(t, "partial/fails:1", imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "b", body: "b"})))
	ts := newTestService(t, linuxHost(), nil)
	unpack := ts.unpackFn
	ts.unpackFn = func(_ context.Context, dir string, _ []string, _ io.Reader) (layerUsage, error) {
		unremovable(t, dir)
		return layerUsage{}, errors.New("BackupWrite: Request not supported")
	}
	_, err := ts.Pull(context.Background(), ref, PullOptions{})
	require.ErrorContains(t, err, "unpacking: BackupWrite: Request not supported")
	assert.NotContains(t, err.Error(), "removing partial layer")
	assert.Equal(t, 1, ts.store.QuarantinedCount())

	ts.unpackFn = unpack
	_, err = ts.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
}
