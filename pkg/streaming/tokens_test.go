package streaming

import (
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	tk := newTokens()
	tk.now = func() time.Time { return now }

	a, err := tk.insert("a")
	require.NoError(t, err)
	assert.Len(t, a, 8)
	b, err := tk.insert("b")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)

	req, ok := tk.consume(a)
	assert.True(t, ok)
	assert.Equal(t, "a", req)
	_, ok = tk.consume(a)
	assert.False(t, ok, "single use")
	_, ok = tk.consume("unknown")
	assert.False(t, ok)

	now = now.Add(tokenTTL + time.Second)
	_, ok = tk.consume(b)
	assert.False(t, ok, "expired")
}

func TestTokensBoundInFlight(t *testing.T) {
	now := time.Unix(1000, 0)
	tk := newTokens()
	tk.now = func() time.Time { return now }
	for range maxInFlight {
		_, err := tk.insert(1)
		require.NoError(t, err)
	}
	_, err := tk.insert(1)
	assert.ErrorIs(t, err, errdefs.ErrResourceExhausted)

	// Expired tokens make room.
	now = now.Add(tokenTTL + time.Second)
	_, err = tk.insert(1)
	require.NoError(t, err)
	assert.Len(t, tk.byToken, 1)
	assert.Equal(t, 1, tk.expiry.Len())
}
