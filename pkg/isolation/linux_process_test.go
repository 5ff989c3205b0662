package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestContainerArgs(t *testing.T) {
	img := imagespec.ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"cmd1", "cmd2"}}
	noEP := imagespec.ImageConfig{Cmd: []string{"/bin/sh", "-c", "true"}}
	tests := []struct {
		name          string
		command, args []string
		img           imagespec.ImageConfig
		want          []string
		wantErr       bool
	}{
		{name: "image entrypoint and cmd", img: img, want: []string{"/ep", "cmd1", "cmd2"}},
		{name: "args replace cmd", args: []string{"a"}, img: img, want: []string{"/ep", "a"}},
		{name: "command replaces entrypoint and drops cmd", command: []string{"/c"}, img: img, want: []string{"/c"}},
		{name: "command and args", command: []string{"/c"}, args: []string{"a", "b"}, img: img, want: []string{"/c", "a", "b"}},
		{name: "image cmd only", img: noEP, want: []string{"/bin/sh", "-c", "true"}},
		{name: "args without entrypoint run as command", args: []string{"/x", "y"}, img: noEP, want: []string{"/x", "y"}},
		{name: "nothing at all", wantErr: true},
		{name: "empty command word", command: []string{""}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ContainerArgs(tt.command, tt.args, tt.img)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestContainerEnv(t *testing.T) {
	kv := func(k, v string) *runtimeapi.KeyValue { return &runtimeapi.KeyValue{Key: k, Value: []byte(v)} }
	tests := []struct {
		name     string
		hostname string
		image    []string
		cri      []*runtimeapi.KeyValue
		want     []string
		wantErr  bool
	}{
		{name: "defaults", hostname: "pod", want: []string{defaultPathEnv, "HOSTNAME=pod"}},
		{name: "no hostname", want: []string{defaultPathEnv}},
		{
			name: "image PATH replaces the default in place", hostname: "pod",
			image: []string{"PATH=/img", "A=1"},
			want:  []string{"PATH=/img", "HOSTNAME=pod", "A=1"},
		},
		{
			name: "CRI wins over image, keeps order", image: []string{"A=1", "B=2"},
			cri:  []*runtimeapi.KeyValue{kv("B", "cri"), kv("C", "3")},
			want: []string{defaultPathEnv, "A=1", "B=cri", "C=3"},
		},
		{name: "CRI may override HOSTNAME", hostname: "pod", cri: []*runtimeapi.KeyValue{kv("HOSTNAME", "x")}, want: []string{defaultPathEnv, "HOSTNAME=x"}},
		{name: "empty value kept", cri: []*runtimeapi.KeyValue{kv("E", "")}, want: []string{defaultPathEnv, "E="}},
		{name: "value with equals", cri: []*runtimeapi.KeyValue{kv("E", "a=b")}, want: []string{defaultPathEnv, "E=a=b"}},
		{name: "empty key", cri: []*runtimeapi.KeyValue{kv("", "x")}, wantErr: true},
		{name: "key with equals", cri: []*runtimeapi.KeyValue{kv("A=B", "x")}, wantErr: true},
		{name: "NUL in value", cri: []*runtimeapi.KeyValue{kv("A", "x\x00y")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ContainerEnv(tt.hostname, tt.image, tt.cri)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestContainerWorkingDir(t *testing.T) {
	tests := []struct {
		cri, image, want string
		wantErr          bool
	}{
		{want: "/"},
		{image: "/app", want: "/app"},
		{cri: "/work/", image: "/app", want: "/work"},
		{cri: "relative", wantErr: true},
		{image: "relative", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.cri+"|"+tt.image, func(t *testing.T) {
			got, err := ContainerWorkingDir(tt.cri, tt.image)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
