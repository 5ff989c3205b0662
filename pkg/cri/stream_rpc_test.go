package cri

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

func TestStreamingRPCs(t *testing.T) {
	notReady := testPod("p2")
	notReady.State = sandbox.PodNotReady
	rt := &fakeRuntime{
		pods: []sandbox.Pod{testPod("p1"), notReady},
		ctrs: []sandbox.Container{testContainer("c1", "p1", sandbox.ContainerRunning), testContainer("c2", "p1", sandbox.ContainerExited)},
	}
	env := newTestEnv(t, Options{Runtime: rt, Streams: rt}, true)

	tests := []struct {
		name    string
		call    func() (string, error)
		wantURL string
		code    codes.Code
	}{
		{"exec", func() (string, error) {
			r, err := env.runtime.Exec(ctx(t), &runtime.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}, Stdout: true})
			return r.GetUrl(), err
		}, "http://127.0.0.1:1/exec/c1", codes.OK},
		{"exec without a command", func() (string, error) {
			r, err := env.runtime.Exec(ctx(t), &runtime.ExecRequest{ContainerId: "c1", Stdout: true})
			return r.GetUrl(), err
		}, "", codes.InvalidArgument},
		{"exec in an exited container", func() (string, error) {
			r, err := env.runtime.Exec(ctx(t), &runtime.ExecRequest{ContainerId: "c2", Cmd: []string{"sh"}, Stdout: true})
			return r.GetUrl(), err
		}, "", codes.FailedPrecondition},
		{"exec in an unknown container", func() (string, error) {
			r, err := env.runtime.Exec(ctx(t), &runtime.ExecRequest{ContainerId: "c9", Cmd: []string{"sh"}, Stdout: true})
			return r.GetUrl(), err
		}, "", codes.NotFound},
		{"attach", func() (string, error) {
			r, err := env.runtime.Attach(ctx(t), &runtime.AttachRequest{ContainerId: "c1", Stdout: true})
			return r.GetUrl(), err
		}, "http://127.0.0.1:1/attach/c1", codes.OK},
		{"port-forward", func() (string, error) {
			r, err := env.runtime.PortForward(ctx(t), &runtime.PortForwardRequest{PodSandboxId: "p1", Port: []int32{80}})
			return r.GetUrl(), err
		}, "http://127.0.0.1:1/portforward/p1", codes.OK},
		{"port-forward to a pod that is not ready", func() (string, error) {
			r, err := env.runtime.PortForward(ctx(t), &runtime.PortForwardRequest{PodSandboxId: "p2", Port: []int32{80}})
			return r.GetUrl(), err
		}, "", codes.FailedPrecondition},
		{"port-forward to a bad port", func() (string, error) {
			r, err := env.runtime.PortForward(ctx(t), &runtime.PortForwardRequest{PodSandboxId: "p1", Port: []int32{70000}})
			return r.GetUrl(), err
		}, "", codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, err := tt.call()
			assert.Equal(t, tt.code, status.Code(err), "%v", err)
			assert.Equal(t, tt.wantURL, url)
		})
	}
}

func TestStreamingRPCsUnimplementedWithoutServer(t *testing.T) {
	env := newTestEnv(t, Options{Runtime: struct{ Runtime }{}}, true)
	_, err := env.runtime.Exec(ctx(t), &runtime.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}})
	require.Error(t, err)
	assert.Equal(t, codes.Unimplemented, status.Code(err))
	_, err = env.runtime.PortForward(ctx(t), &runtime.PortForwardRequest{PodSandboxId: "p1"})
	assert.Equal(t, codes.Unimplemented, status.Code(err))
}
