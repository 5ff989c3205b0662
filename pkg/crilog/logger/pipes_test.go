package logger

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/crilog"
)

func unixListen(name string) (net.Listener, error) { return net.Listen("unix", name) }

func dialUnix(t *testing.T, name string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", name)
	require.NoError(t, err)
	return c
}

// shortState is a state directory short enough for unix socket names.
func shortState(t *testing.T) string {
	dir, err := os.MkdirTemp("", "wp")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// TestPipesShape pins the stdio handed to runhcs: named pipes for every
// stream the task has, as containerd's cio.NewFIFOSetInDir gives it on
// Windows (pkg/cio/io_windows.go); a terminal has no stderr.
func TestPipesShape(t *testing.T) {
	tests := []struct {
		name                               string
		stdin, tty                         bool
		wantStdin, wantStderr, wantRelayed bool
	}{
		{name: "output only", wantStderr: true},
		{name: "stdin", stdin: true, wantStdin: true, wantStderr: true, wantRelayed: true},
		{name: "terminal with stdin", stdin: true, tty: true, wantStdin: true, wantRelayed: true},
		{name: "terminal without stdin", tty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Pipes("/state", "c1", tt.stdin, tt.tty)
			require.NoError(t, err)
			assert.NotEmpty(t, set.Stdout)
			assert.Equal(t, tt.wantStdin, set.Stdin != "")
			assert.Equal(t, tt.wantStderr, set.Stderr != "")
			assert.Equal(t, tt.wantRelayed, set.Relay != "")
			names := map[string]bool{}
			for _, n := range []string{set.Stdin, set.Stdout, set.Stderr, set.Relay} {
				if n != "" {
					assert.False(t, names[n], "%s named twice", n)
					names[n] = true
				}
			}
		})
	}
	_, err := Pipes("/state", "bad/id", false, false)
	require.Error(t, err)
}

func TestServePipesCarriesTheShimsStreams(t *testing.T) {
	set, err := Pipes(shortState(t), "c1", true, false)
	require.NoError(t, err)
	stdio, closeAll, err := ServePipes(set, unixListen, time.Minute, func() error { return nil })
	require.NoError(t, err)
	defer closeAll()

	// The shim dials every endpoint as runhcs does at CreateTask.
	out, errOut, in := dialUnix(t, set.Stdout), dialUnix(t, set.Stderr), dialUnix(t, set.Stdin)
	_, err = io.WriteString(out, "to stdout\n")
	require.NoError(t, err)
	_, err = io.WriteString(errOut, "to stderr\n")
	require.NoError(t, err)
	require.NoError(t, out.Close())
	require.NoError(t, errOut.Close())
	got, err := io.ReadAll(stdio.Stdout)
	require.NoError(t, err)
	assert.Equal(t, "to stdout\n", string(got))
	got, err = io.ReadAll(stdio.Stderr)
	require.NoError(t, err)
	assert.Equal(t, "to stderr\n", string(got))

	// Attach clients take turns on the container's stdin.
	for _, line := range []string{"first client\n", "second client\n"} {
		client := dialUnix(t, set.Relay)
		_, err := io.WriteString(client, line)
		require.NoError(t, err)
		require.NoError(t, client.Close())
		buf := make([]byte, len(line))
		_, err = io.ReadFull(in, buf)
		require.NoError(t, err)
		assert.Equal(t, line, string(buf))
	}
	require.NoError(t, closeAll())
	_, err = net.Dial("unix", set.Relay)
	assert.Error(t, err, "closed: no more attach clients")
}

func TestServePipesWithoutAShim(t *testing.T) {
	set, err := Pipes(shortState(t), "c1", true, true)
	require.NoError(t, err)
	stdio, closeAll, err := ServePipes(set, unixListen, 50*time.Millisecond, func() error { return nil })
	require.NoError(t, err)
	defer closeAll()
	// A task that was never created: the streams end, so the logger does.
	for _, r := range []io.Reader{stdio.Stdout, stdio.Stderr} {
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Empty(t, got)
	}
}

func TestServePipesListenFailure(t *testing.T) {
	set, err := Pipes(shortState(t), "c1", true, false)
	require.NoError(t, err)
	// Something already listens on stderr's endpoint.
	taken, err := unixListen(set.Stderr)
	require.NoError(t, err)
	defer taken.Close()
	_, _, err = ServePipes(set, unixListen, time.Minute, func() error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), set.Stderr)
	// What it had opened is released: stdout's endpoint is free again.
	again, err := unixListen(set.Stdout)
	require.NoError(t, err)
	require.NoError(t, again.Close())
}

// The logger's whole path on the pipes: output into the CRI log.
func TestRunOverPipes(t *testing.T) {
	o := Options{ID: "c1", LogDirectory: t.TempDir(), LogPath: "app/0.log", StateDir: shortState(t)}
	set, err := Pipes(o.StateDir, o.ID, false, false)
	require.NoError(t, err)
	ready := make(chan struct{})
	stdio, closeAll, err := ServePipes(set, unixListen, time.Minute, func() error { close(ready); return nil })
	require.NoError(t, err)
	defer closeAll()
	done := make(chan error, 1)
	go func() { done <- Run(t.Context(), o, stdio, time.Second) }()
	<-ready
	out, errOut := dialUnix(t, set.Stdout), dialUnix(t, set.Stderr)
	_, err = io.WriteString(out, "hello\n")
	require.NoError(t, err)
	require.NoError(t, out.Close())
	require.NoError(t, errOut.Close())
	require.NoError(t, <-done)
	msgs := messages(t, filepath.Join(o.LogDirectory, o.LogPath))
	assert.Equal(t, []string{"hello"}, texts(msgs, crilog.Stdout))
}
