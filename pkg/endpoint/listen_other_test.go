//go:build !windows

package endpoint

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListenModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	e := Endpoint{Unix, filepath.Join(dir, "wincri.sock")}
	l, err := Listen(e)
	require.NoError(t, err)
	defer l.Close()
	fi, err := os.Stat(e.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o660), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
}

func TestListenRefusesLiveSocket(t *testing.T) {
	e := Endpoint{Unix, filepath.Join(t.TempDir(), "wincri.sock")}
	l, err := Listen(e)
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	_, err = Listen(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another process is serving")
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wincri.sock")
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	// Closing a unix listener removes its file; recreate a dead one.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	l2, err := Listen(Endpoint{Unix, path})
	require.NoError(t, err)
	require.NoError(t, l2.Close())
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wincri.sock")
	require.NoError(t, os.WriteFile(path, []byte("precious"), 0o600))
	_, err := Listen(Endpoint{Unix, path})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a socket")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(data))
}

func TestDial(t *testing.T) {
	e := Endpoint{Unix, filepath.Join(t.TempDir(), "wincri.sock")}
	_, err := Dial(t.Context(), e)
	require.Error(t, err, "nobody listens yet")

	l, err := Listen(e)
	require.NoError(t, err)
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	c, err := Dial(t.Context(), e)
	require.NoError(t, err)
	require.NoError(t, c.Close())

	_, err = Dial(t.Context(), Endpoint{NPipe, `\\.\pipe\wincri`})
	assert.ErrorContains(t, err, "only unix://")
}
