package stats

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilesystemCapacity(t *testing.T) {
	c, err := FilesystemCapacity(t.TempDir())
	require.NoError(t, err)
	assert.NotZero(t, c.Bytes)
	assert.LessOrEqual(t, c.InodesFree, c.Inodes)

	_, err = FilesystemCapacity("/nonexistent/wincri")
	assert.ErrorIs(t, err, os.ErrNotExist)
}
