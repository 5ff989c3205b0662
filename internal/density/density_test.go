package density

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		ready []time.Duration
		p     float64
		want  time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 100, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Result{Ready: tt.ready}.Percentile(tt.p), "%v p%v", tt.ready, tt.p)
	}
}

func TestGoroutineCount(t *testing.T) {
	n, err := GoroutineCount("goroutine profile: total 42\n1 @ 0x1\n")
	require.NoError(t, err)
	assert.Equal(t, 42, n)
	_, err = GoroutineCount("<html>not found</html>")
	require.Error(t, err)
}
