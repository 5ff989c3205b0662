package shim

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// shortDir returns a directory with a short path: socket paths under it
// must fit in 107 bytes, which t.TempDir() (named after the test) does
// not guarantee.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsh")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
