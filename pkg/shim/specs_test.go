package shim

import (
	"encoding/json"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpecAnys(t *testing.T) {
	limit := int64(1 << 20)
	tests := []struct {
		name    string
		marshal func() (any, error)
		wantURL string
		wantErr error
	}{
		{
			name:    "process",
			marshal: func() (any, error) { return ProcessSpec(&specs.Process{Args: []string{"sh"}}) },
			wantURL: "types.containerd.io/opencontainers/runtime-spec/1/Process",
		},
		{
			name: "linux resources",
			marshal: func() (any, error) {
				return LinuxResources(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}})
			},
			wantURL: "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources",
		},
		{
			name:    "windows resources",
			marshal: func() (any, error) { return WindowsResources(&specs.WindowsResources{}) },
			wantURL: "types.containerd.io/opencontainers/runtime-spec/1/WindowsResources",
		},
		{name: "nil process", marshal: func() (any, error) { return ProcessSpec(nil) }, wantErr: errdefs.ErrInvalidArgument},
		{name: "nil linux", marshal: func() (any, error) { return LinuxResources(nil) }, wantErr: errdefs.ErrInvalidArgument},
		{name: "nil windows", marshal: func() (any, error) { return WindowsResources(nil) }, wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.marshal()
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			a := got.(interface {
				GetTypeUrl() string
				GetValue() []byte
			})
			assert.Equal(t, tt.wantURL, a.GetTypeUrl())
			assert.True(t, json.Valid(a.GetValue()))
		})
	}
}
