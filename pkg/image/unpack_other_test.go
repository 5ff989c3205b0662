//go:build !windows

package image

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wincri/wincri/internal/testutil"
)

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
	uid              int
	xattrs           map[string]string
}

func buildTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: mode, Linkname: e.link, Size: int64(len(e.body)),
			Uid: e.uid, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		for k, v := range e.xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		require.NoError(t, tw.WriteHeader(hdr))
		if e.typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func TestUnpackOverlay(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "layer")
	layer := buildTar(t, []tarEntry{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/hostname", body: "box", typ: tar.TypeReg, uid: 1000},
		{name: "bin/su", body: "su", typ: tar.TypeReg, mode: 0o4755},
		{name: "bin/sh", typ: tar.TypeSymlink, link: "/bin/busybox"},
		{name: "bin/busybox", body: "bb", typ: tar.TypeReg, mode: 0o755, xattrs: map[string]string{"user.origin": "test", "trusted.overlay.opaque": "y"}},
		{name: "bin/ls", typ: tar.TypeLink, link: "bin/busybox"},
		{name: "var/.wh.cache", typ: tar.TypeReg},
		{name: "opt/", typ: tar.TypeDir},
		{name: "opt/.wh..wh..opq", typ: tar.TypeReg},
		{name: "./run/fifo", typ: tar.TypeFifo},
	})
	usage, err := unpackLayer(context.Background(), dir, nil, bytes.NewReader(layer))
	require.NoError(t, err)
	assert.Equal(t, int64(len("box")+len("su")+len("bb")), usage.Bytes)

	body, err := os.ReadFile(filepath.Join(dir, "etc/hostname"))
	require.NoError(t, err)
	assert.Equal(t, "box", string(body))
	fi, err := os.Stat(filepath.Join(dir, "etc/hostname"))
	require.NoError(t, err)
	assert.Equal(t, uint32(1000), fi.Sys().(*syscall.Stat_t).Uid)
	assert.Equal(t, time.Unix(1700000000, 0), fi.ModTime())

	fi, err = os.Stat(filepath.Join(dir, "bin/su"))
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSetuid, "setuid survives the chown")

	link, err := os.Readlink(filepath.Join(dir, "bin/sh"))
	require.NoError(t, err)
	assert.Equal(t, "/bin/busybox", link)

	a, err := os.Stat(filepath.Join(dir, "bin/busybox"))
	require.NoError(t, err)
	b, err := os.Stat(filepath.Join(dir, "bin/ls"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(a, b), "hard link within the layer")

	buf := make([]byte, 64)
	n, err := unix.Lgetxattr(filepath.Join(dir, "bin/busybox"), "user.origin", buf)
	require.NoError(t, err)
	assert.Equal(t, "test", string(buf[:n]))
	_, err = unix.Lgetxattr(filepath.Join(dir, "bin/busybox"), "trusted.overlay.opaque", buf)
	assert.Error(t, err, "a layer cannot set overlay's own xattrs")

	fi, err = os.Lstat(filepath.Join(dir, "var/cache"))
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	assert.Equal(t, os.ModeCharDevice|os.ModeDevice, fi.Mode()&(os.ModeCharDevice|os.ModeDevice), "whiteout is a char device")
	assert.Equal(t, uint64(0), uint64(st.Rdev))
	_, err = os.Lstat(filepath.Join(dir, "var/.wh.cache"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	n, err = unix.Lgetxattr(filepath.Join(dir, "opt"), "trusted.overlay.opaque", buf)
	require.NoError(t, err)
	assert.Equal(t, "y", string(buf[:n]))

	fi, err = os.Lstat(filepath.Join(dir, "run/fifo"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeNamedPipe, fi.Mode()&os.ModeNamedPipe)
}

func TestUnpackOverlayRefusesEscapes(t *testing.T) {
	testutil.RequireRoot(t)
	tests := []struct {
		name    string
		entries []tarEntry
	}{
		{"dot-dot", []tarEntry{{name: "../evil", body: "x", typ: tar.TypeReg}}},
		{"dot-dot inside", []tarEntry{{name: "a/../../evil", body: "x", typ: tar.TypeReg}}},
		{"write through absolute symlink", []tarEntry{
			{name: "link", typ: tar.TypeSymlink, link: "OUTSIDE"},
			{name: "link/evil", body: "x", typ: tar.TypeReg},
		}},
		{"write through relative symlink", []tarEntry{
			{name: "link", typ: tar.TypeSymlink, link: "../../.."},
			{name: "link/evil", body: "x", typ: tar.TypeReg},
		}},
		{"hard link to outside", []tarEntry{{name: "passwd", typ: tar.TypeLink, link: "../../outside"}}},
		{"whiteout through symlink", []tarEntry{
			{name: "link", typ: tar.TypeSymlink, link: "OUTSIDE"},
			{name: "link/.wh.victim", typ: tar.TypeReg},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			outside := filepath.Join(base, "outside")
			require.NoError(t, os.MkdirAll(outside, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(outside, "victim"), []byte("v"), 0o644))
			for i := range tt.entries {
				if tt.entries[i].link == "OUTSIDE" {
					tt.entries[i].link = outside
				}
			}
			dir := filepath.Join(base, "layers", "l")
			_, err := unpackLayer(context.Background(), dir, nil, bytes.NewReader(buildTar(t, tt.entries)))
			require.Error(t, err)
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			left, _ := os.ReadDir(outside)
			assert.Len(t, left, 1, "nothing was written outside the layer")
			body, _ := os.ReadFile(filepath.Join(outside, "victim"))
			assert.Equal(t, "v", string(body))
			_, err = os.Stat(filepath.Join(base, "evil"))
			assert.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

func TestUnpackCancelled(t *testing.T) {
	testutil.RequireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := unpackLayer(ctx, t.TempDir(), nil, bytes.NewReader(buildTar(t, []tarEntry{{name: "a", typ: tar.TypeReg}})))
	assert.ErrorIs(t, err, context.Canceled)
}
