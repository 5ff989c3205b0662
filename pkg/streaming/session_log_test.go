package streaming

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
)

func TestClientCaused(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"client went away", fmt.Errorf("exec in container c: the client went away, the process was killed: %w", context.Canceled), true},
		{"container gone", fmt.Errorf("container %q: %w", "missing", errdefs.ErrNotFound), true},
		{"container stopped", fmt.Errorf("container c is exited, not running: %w", errdefs.ErrFailedPrecondition), true},
		{"nothing listens on the port", fmt.Errorf("port forward to pod sandbox p port 9: connection refused: %w", errdefs.ErrUnavailable), true},
		{"shim failed", errors.New("ttrpc: closed"), false},
		{"internal", fmt.Errorf("writing the exec spec: %w", errdefs.ErrInternal), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, clientCaused(tc.err))
		})
	}
}
