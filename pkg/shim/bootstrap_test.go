package shim

import (
	"testing"

	runhcsoptions "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/options"
	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	runcoptions "github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/typeurl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestEncodeBootstrapParams(t *testing.T) {
	runcOpts, err := typeurl.MarshalAnyToProto(&runcoptions.Options{BinaryName: "runc", SystemdCgroup: true})
	require.NoError(t, err)
	hcsOpts, err := typeurl.MarshalAnyToProto(&runhcsoptions.Options{SandboxIsolation: runhcsoptions.Options_HYPERVISOR})
	require.NoError(t, err)

	base := bootstrapInput{
		ID:            "pod1",
		Namespace:     "wincri",
		TTRPCAddress:  "/var/run/wincri/events.sock",
		GRPCAddress:   "/var/run/wincri/wincri.sock",
		PublishBinary: "/usr/bin/wincri",
		SocketDir:     "/var/run/wincri/s",
	}
	withRunc, withHCS, debug, bare := base, base, base, base
	withRunc.Options = runcOpts
	withHCS.Options = hcsOpts
	debug.Debug = true
	bare.SocketDir = ""

	tests := []struct {
		name      string
		in        bootstrapInput
		wantLevel bootstrap.LogLevel
		check     func(t *testing.T, p *bootstrap.BootstrapParams)
	}{
		{
			name: "runc options as extension",
			in:   withRunc,
			check: func(t *testing.T, p *bootstrap.BootstrapParams) {
				var got runcoptions.Options
				found, err := p.FindExtension(&got)
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, "runc", got.GetBinaryName())
				assert.True(t, got.GetSystemdCgroup())
			},
		},
		{
			name: "runhcs options as extension",
			in:   withHCS,
			check: func(t *testing.T, p *bootstrap.BootstrapParams) {
				var got runhcsoptions.Options
				found, err := p.FindExtension(&got)
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, runhcsoptions.Options_HYPERVISOR, got.GetSandboxIsolation())
			},
		},
		{
			name:      "debug",
			in:        debug,
			wantLevel: bootstrap.LogLevel_LOG_LEVEL_DEBUG,
			check: func(t *testing.T, p *bootstrap.BootstrapParams) {
				assert.Empty(t, p.GetExtensions())
			},
		},
		{
			name: "no socket dir",
			in:   bare,
			check: func(t *testing.T, p *bootstrap.BootstrapParams) {
				assert.Nil(t, p.SocketDir, "an unset socket dir leaves the shim its default")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeBootstrapParams(tt.in)
			require.NoError(t, err)
			var p bootstrap.BootstrapParams
			require.NoError(t, proto.Unmarshal(b, &p))
			// runc-v2 rejects params whose id or namespace differ from its flags.
			assert.Equal(t, tt.in.ID, p.GetInstanceID())
			assert.Equal(t, tt.in.Namespace, p.GetNamespace())
			assert.Equal(t, tt.in.TTRPCAddress, p.GetContainerdTtrpcAddress())
			assert.Equal(t, tt.in.GRPCAddress, p.GetContainerdGrpcAddress())
			assert.Equal(t, tt.in.PublishBinary, p.GetContainerdBinary())
			assert.Equal(t, tt.in.SocketDir, p.GetSocketDir())
			assert.Equal(t, tt.wantLevel, p.GetLogLevel())
			tt.check(t, &p)
		})
	}
}
