package shim

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLazyConnDialsUntilTheShimServes(t *testing.T) {
	server, client := net.Pipe()
	var attempts atomic.Int32
	c := newLazyConn(func(context.Context) (net.Conn, error) {
		// The shim serves its log pipe only at the fourth attempt: on a
		// busy node, long after any fixed deadline would have passed.
		if attempts.Add(1) < 4 {
			return nil, errors.New("the system cannot find the file specified")
		}
		return client, nil
	}, time.Millisecond)
	go func() { _, _ = io.WriteString(server, "level=info msg=serving\n"); _ = server.Close() }()
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "level=info msg=serving\n", string(got))
	assert.EqualValues(t, 4, attempts.Load())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "closing twice")
}

func TestLazyConnClosedBeforeTheShimServes(t *testing.T) {
	dialing := make(chan struct{}, 1)
	c := newLazyConn(func(ctx context.Context) (net.Conn, error) {
		select {
		case dialing <- struct{}{}:
		default:
		}
		return nil, errors.New("not yet")
	}, time.Millisecond)
	<-dialing
	read := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); read <- err }()
	require.NoError(t, c.Close())
	assert.ErrorIs(t, <-read, errLazyClosed, "a pending Read ends with the Close")
}
