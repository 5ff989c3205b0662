package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These ask the real node: Linux only.

func TestNodeHostDevices(t *testing.T) {
	devs, err := NodeHost{}.Devices("/dev/null")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	assert.Equal(t, "/dev/null", devs[0].Path)
	assert.Equal(t, "c", devs[0].Type)
	assert.Equal(t, int64(1), devs[0].Major)
	assert.Equal(t, int64(3), devs[0].Minor)

	all, err := NodeHost{}.Devices("/dev")
	require.NoError(t, err)
	var paths []string
	for _, d := range all {
		paths = append(paths, d.Path)
		assert.NotContains(t, d.Path, "/dev/pts/", "a container gets its own pts")
	}
	assert.Contains(t, paths, "/dev/null")

	_, err = NodeHost{}.Devices("/dev/does-not-exist")
	require.ErrorIs(t, err, errdefs.ErrNotFound)
	_, err = NodeHost{}.Devices("/proc/self/status")
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
}

func TestNodeHostMountPropagation(t *testing.T) {
	// Whatever the root mount's propagation here, it must be found.
	_, err := NodeHost{}.MountPropagation("/")
	require.NoError(t, err)
}

func TestDaemonOOMScoreAdj(t *testing.T) {
	v, err := DaemonOOMScoreAdj()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, v, -1000)
	assert.LessOrEqual(t, v, 1000)
}
