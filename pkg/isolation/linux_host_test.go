package isolation

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testMountinfo = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
24 22 0:22 / /var/lib/kubelet rw,relatime master:7 - ext4 /dev/sdb1 rw
25 24 0:23 / /var/lib/kubelet/pods/x rw,relatime - tmpfs tmpfs rw
26 22 0:24 / /mnt/with\040space rw,relatime shared:3 master:2 - tmpfs tmpfs rw
`

func TestPropagationOf(t *testing.T) {
	tests := []struct {
		path string
		want Propagation
	}{
		{"/", PropagationShared},
		{"/home/user", PropagationShared},
		{"/proc/1", PropagationPrivate},
		{"/var/lib/kubelet/plugins", PropagationSlave},
		{"/var/lib/kubelet/pods/x/volumes", PropagationPrivate},
		{"/var/lib/kubeletx", PropagationShared},
		{"/mnt/with space/a", PropagationShared},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := propagationOf(testMountinfo, tt.path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := propagationOf("", "/x")
	require.ErrorIs(t, err, errdefs.ErrNotFound)
}

func TestUnescapeMountPoint(t *testing.T) {
	assert.Equal(t, "/a b", unescapeMountPoint(`/a\040b`))
	assert.Equal(t, `/a\b`, unescapeMountPoint(`/a\134b`))
	assert.Equal(t, `/a\9`, unescapeMountPoint(`/a\9`))
	assert.Equal(t, `/a\04`, unescapeMountPoint(`/a\04`))
}

func TestNodeHostResolvePath(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.Mkdir(target, 0o755))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))

	got, err := NodeHost{}.ResolvePath(link)
	require.NoError(t, err)
	want, err := filepath.EvalSymlinks(target)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = NodeHost{}.ResolvePath(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, errdefs.ErrNotFound)
}

func TestReadOOMScoreAdj(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "oom")
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	v, err := readOOMScoreAdj(write("-500\n"))
	require.NoError(t, err)
	assert.Equal(t, -500, v)
	_, err = readOOMScoreAdj(write("lots\n"))
	require.Error(t, err)
	_, err = readOOMScoreAdj(filepath.Join(dir, "none"))
	require.Error(t, err)
}

func TestCapsFromStatus(t *testing.T) {
	status := "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n"
	caps, err := capsFromStatus(status)
	require.NoError(t, err)
	assert.Len(t, caps, len(allLinuxCaps)-1)
	assert.NotContains(t, caps, "CAP_SYS_RESOURCE")
	assert.Contains(t, caps, "CAP_CHECKPOINT_RESTORE")

	caps, err = capsFromStatus("CapEff:\t0000000000000001\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"CAP_CHOWN"}, caps)

	_, err = capsFromStatus("CapEff:\tzz\n")
	require.Error(t, err)
	_, err = capsFromStatus("Name:\tx\n")
	require.ErrorIs(t, err, errdefs.ErrNotFound)
}
