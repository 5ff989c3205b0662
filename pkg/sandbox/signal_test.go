package sandbox

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 15}, {"SIGTERM", 15}, {"TERM", 15}, {"sigquit", 3}, {"9", 9}, {"SIGUSR1", 10},
		{"SIGRTMIN", 34}, {"SIGRTMIN+3", 37}, {"RTMAX-1", 63}, {"SIGRTMAX", 64},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSignal(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{"SIGNOPE", "0", "65", "RTMIN+40", "RTMIN+x", "-1"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			_, err := ParseSignal(bad)
			assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
		})
	}
}
