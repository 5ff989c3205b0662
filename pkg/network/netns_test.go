package network

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNSDir(t *testing.T) {
	d := nsDir{dir: filepath.Join(t.TempDir(), "netns")}

	ids, err := d.List()
	require.NoError(t, err, "a missing directory lists nothing")
	assert.Empty(t, ids)
	_, err = d.readRecord("p1")
	assert.True(t, errdefs.IsNotFound(err))

	f, err := d.reserve("p1", 0o600)
	require.NoError(t, err)
	_, err = f.WriteString("guid-1\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = d.reserve("p1", 0o600)
	assert.True(t, errdefs.IsAlreadyExists(err), "%v", err)

	f, err = d.reserve("p0", 0o600)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// Entries that are no pod's are not listed.
	require.NoError(t, os.WriteFile(filepath.Join(d.dir, ".tmp"), nil, 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(d.dir, "sub"), 0o700))

	ids, err = d.List()
	require.NoError(t, err)
	assert.Equal(t, []string{"p0", "p1"}, ids)
	rec, err := d.readRecord("p1")
	require.NoError(t, err)
	assert.Equal(t, "guid-1", rec)
	rec, err = d.readRecord("p0")
	require.NoError(t, err)
	assert.Empty(t, rec, "an entry reserved but never filled")

	require.NoError(t, d.removeEntry("p1"))
	require.NoError(t, d.removeEntry("p1"), "removing twice is fine")
	ids, err = d.List()
	require.NoError(t, err)
	assert.Equal(t, []string{"p0"}, ids)
}
