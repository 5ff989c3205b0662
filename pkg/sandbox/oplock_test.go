package sandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpLock(t *testing.T) {
	var l opLock
	require.NoError(t, l.lock(t.Context(), "container c"), "the zero value is unlocked")

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := l.lock(ctx, "container c")
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Contains(t, err.Error(), "container c is busy")

	got := make(chan error, 1)
	go func() { got <- l.lock(t.Context(), "container c") }()
	l.unlock()
	require.NoError(t, <-got, "a waiter gets the lock when it is released")
	l.unlock()
	assert.Panics(t, l.unlock, "unlocking twice is a bug")
}
