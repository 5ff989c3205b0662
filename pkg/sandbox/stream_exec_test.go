package sandbox

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"
)

// brokenClient fails every write, as a streaming client that went away.
type brokenClient struct{}

func (brokenClient) Write([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestCopyToClientKeepsDrainingAfterTheClientWentAway(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	var gone atomic.Bool
	done := make(chan struct{})
	go func() {
		copyToClient(klog.Background(), brokenClient{}, r, func() { gone.Store(true) })
		close(done)
	}()

	// Far more than a pipe holds: the writer (the shim) must never block.
	written := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 4<<20))
		_ = w.Close()
		written <- err
	}()
	select {
	case err := <-written:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		_ = r.Close()
		t.Fatal("the exec's output is no longer read once the client went away: the shim's drain would wait")
	}
	<-done
	assert.True(t, gone.Load(), "the failed client write was reported")
}

// TestCappedBufferCapsIOCopy: io.Copy, which ExecSync uses, must go
// through the cap (an embedded bytes.Buffer's ReadFrom once bypassed it).
func TestCappedBufferCapsIOCopy(t *testing.T) {
	var b cappedBuffer
	_, err := io.Copy(&b, io.LimitReader(zeros{}, MaxExecOutput+1))
	require.NoError(t, err)
	assert.True(t, b.overflow)
	assert.Len(t, b.Bytes(), MaxExecOutput)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
