//go:build !windows

package shim

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShimLogFIFO(t *testing.T) {
	bundle := shortDir(t)
	r, err := openShimLog("wincri", "pod1", bundle)
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(bundle, "log"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeNamedPipe, fi.Mode().Type())

	lines := make(chan string, 10)
	logger := funcr.New(func(_, args string) { lines <- args }, funcr.Options{})
	c := &conn{}
	require.True(t, c.drainLog(logger, r))
	require.False(t, c.drainLog(logger, r), "one drain per shim")

	// The shim's side: a writer that opens, writes and goes away. The
	// reader sees no EOF and keeps draining.
	for _, msg := range []string{"first", "second"} {
		w, err := os.OpenFile(filepath.Join(bundle, "log"), os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = w.WriteString(`level=warning msg=` + msg + "\n")
		require.NoError(t, err)
		require.NoError(t, w.Close())
		select {
		case got := <-lines:
			assert.Contains(t, got, msg)
		case <-time.After(10 * time.Second):
			t.Fatalf("log line %q not drained", msg)
		}
	}

	// stopLog closes the FIFO and waits for the drain to end; a hang
	// ends the test by its deadline.
	c.stopLog()
	assert.False(t, c.drainLog(logger, r), "no drain after stop")

	none, err := openShimLog("wincri", "pod1", "")
	require.NoError(t, err)
	assert.Nil(t, none)
}
