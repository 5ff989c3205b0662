package rootlock

import (
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecondAcquireIsRefusedUntilRelease(t *testing.T) {
	root := t.TempDir()
	l, err := Acquire(root)
	require.NoError(t, err)

	_, err = Acquire(root)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another wincri (pid "+strconv.Itoa(os.Getpid())+")")
	assert.Contains(t, err.Error(), root)

	require.NoError(t, l.Release())
	l2, err := Acquire(root)
	require.NoError(t, err)
	require.NoError(t, l2.Release())
}

func TestAcquireMissingRoot(t *testing.T) {
	_, err := Acquire(t.TempDir() + "/does/not/exist")
	require.Error(t, err)
}
