package cri

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestCodecMarksInvalidUTF8(t *testing.T) {
	valid := &runtime.RunPodSandboxRequest{Config: &runtime.PodSandboxConfig{
		Metadata: &runtime.PodSandboxMetadata{Name: "NAMEX", Namespace: "default", Uid: "u"},
		Labels:   map[string]string{"app": "VALUEX"},
	}}
	data, err := proto.Marshal(valid)
	require.NoError(t, err)
	tests := []struct {
		name       string
		from, to   string
		wantFields string
	}{
		{"valid", "", "", ""},
		{"metadata name", "NAMEX", "NA\xffEX", "config.metadata.name"},
		{"label value", "VALUEX", "VAL\xc3(X", "config.labels.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := data
			if tt.from != "" {
				b = bytes.Replace(data, []byte(tt.from), []byte(tt.to), 1)
				require.Error(t, proto.Unmarshal(b, &runtime.RunPodSandboxRequest{}), "the plain codec refuses it")
			}
			var req runtime.RunPodSandboxRequest
			require.NoError(t, codec{}.Unmarshal(b, &req))
			assert.Equal(t, tt.wantFields, invalidUTF8(&req))
			assert.Equal(t, "default", req.GetConfig().GetMetadata().GetNamespace(), "the rest decodes")
		})
	}
}

func TestCodecStillRefusesGarbage(t *testing.T) {
	var req runtime.RunPodSandboxRequest
	require.Error(t, codec{}.Unmarshal([]byte{0xff, 0xff, 0xff}, &req))
}

func TestInvalidUTF8IsInvalidArgument(t *testing.T) {
	env := newTestEnv(t, Options{}, true)
	info := &grpc.UnaryServerInfo{FullMethod: "/runtime.v1.RuntimeService/RunPodSandbox"}
	_, err := env.srv.unaryInterceptor(ctx(t), markedRequest(t), info, func(context.Context, any) (any, error) {
		t.Fatal("the handler must not run")
		return nil, nil
	})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "config.metadata.name: not valid UTF-8")
}

func markedRequest(t *testing.T) *runtime.RunPodSandboxRequest {
	t.Helper()
	data, err := proto.Marshal(&runtime.RunPodSandboxRequest{Config: &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "NAMEX"}}})
	require.NoError(t, err)
	var req runtime.RunPodSandboxRequest
	require.NoError(t, codec{}.Unmarshal(bytes.Replace(data, []byte("NAMEX"), []byte("N\xffMEX"), 1), &req))
	return &req
}
