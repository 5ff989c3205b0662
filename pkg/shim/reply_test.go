package shim

import (
	"testing"

	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func mustProto(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestParseStartReply(t *testing.T) {
	const sock = "unix:///run/wincri/s/0123456789abcdef"
	const pipe = `\\.\pipe\ProtectedPrefix\Administrators\containerd-shim-wincri-pod1-pipe`
	tests := []struct {
		name    string
		out     []byte
		want    Address
		wantErr error
	}{
		{
			name: "protobuf v3 from runc-v2",
			out:  mustProto(t, &bootstrap.BootstrapResult{Version: 3, Address: sock, Protocol: "ttrpc"}),
			want: Address{Address: sock, Version: 3, Protocol: "ttrpc"},
		},
		{
			name: "protobuf v2 without protocol",
			out:  mustProto(t, &bootstrap.BootstrapResult{Version: 2, Address: sock}),
			want: Address{Address: sock, Version: 2, Protocol: "ttrpc"},
		},
		{
			name: "json from containerd 2.0 shims",
			out:  []byte(`{"version":3,"address":"` + sock + `","protocol":"ttrpc"}` + "\n"),
			want: Address{Address: sock, Version: 3, Protocol: "ttrpc"},
		},
		{
			name: "json without protocol",
			out:  []byte(`{"version":2,"address":"` + sock + `"}`),
			want: Address{Address: sock, Version: 2, Protocol: "ttrpc"},
		},
		{
			name: "plain unix address",
			out:  []byte(sock),
			want: Address{Address: sock, Version: 2, Protocol: "ttrpc"},
		},
		{
			name: "plain pipe address from runhcs",
			out:  []byte(pipe + "\r\n"),
			want: Address{Address: pipe, Version: 2, Protocol: "ttrpc"},
		},
		{name: "empty", out: nil, wantErr: errdefs.ErrInvalidArgument},
		{name: "blank", out: []byte(" \n"), wantErr: errdefs.ErrInvalidArgument},
		{name: "broken json", out: []byte(`{"version":3,`), wantErr: errdefs.ErrInvalidArgument},
		{name: "json without address", out: []byte(`{"version":3}`), wantErr: errdefs.ErrInvalidArgument},
		{name: "several lines", out: []byte("panic: oops\ngoroutine 1"), wantErr: errdefs.ErrInvalidArgument},
		{
			name:    "grpc shim",
			out:     mustProto(t, &bootstrap.BootstrapResult{Version: 3, Address: sock, Protocol: "grpc"}),
			wantErr: errdefs.ErrNotImplemented,
		},
		{
			name:    "future task API",
			out:     []byte(`{"version":4,"address":"` + sock + `","protocol":"ttrpc"}`),
			wantErr: errdefs.ErrNotImplemented,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStartReply(tt.out)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCheckReplyKeepsRecordedFields(t *testing.T) {
	got, err := checkReply(Address{Address: "/s", Version: 3, ShimID: "pod1", Bundle: "/b/pod1"})
	require.NoError(t, err)
	assert.Equal(t, Address{Address: "/s", Version: 3, Protocol: "ttrpc", ShimID: "pod1", Bundle: "/b/pod1"}, got)
}
