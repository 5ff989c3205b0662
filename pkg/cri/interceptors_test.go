package cri

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestNotReadyAnswersUnavailableExceptVersion(t *testing.T) {
	env := newTestEnv(t, Options{}, false)
	_, err := env.runtime.Status(ctx(t), &runtime.StatusRequest{})
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "recovering")

	_, err = env.runtime.Version(ctx(t), &runtime.VersionRequest{})
	require.NoError(t, err)

	env.srv.SetReady()
	_, err = env.runtime.Status(ctx(t), &runtime.StatusRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1.0, env.count("Status", "Unavailable"))
	assert.Equal(t, 1.0, env.count("Status", "OK"))
}

func TestPanicBecomesInternal(t *testing.T) {
	env := newTestEnv(t, Options{Network: &fakeNetwork{panics: true}}, true)
	env.log.Expect(`^RPC panicked: panic: network status exploded`, `^RPC failed: .*code = Internal desc = Status: internal error: network status exploded`)
	_, err := env.runtime.Status(ctx(t), &runtime.StatusRequest{})
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "network status exploded")
	// The server survives and keeps answering.
	_, err = env.runtime.Version(ctx(t), &runtime.VersionRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1.0, env.count("Status", "Internal"))
}

func TestUnimplementedRPC(t *testing.T) {
	env := newTestEnv(t, Options{}, true)
	_, err := env.runtime.Attach(ctx(t), &runtime.AttachRequest{})
	assert.Equal(t, codes.Unimplemented, status.Code(err))
}

func TestDomainErrorsAreMappedOnce(t *testing.T) {
	env := newTestEnv(t, Options{Network: &fakeNetwork{setError: errBoom}}, true)
	env.log.Expect(`^RPC failed: .*code = Internal desc = boom `)
	_, err := env.runtime.UpdateRuntimeConfig(ctx(t), &runtime.UpdateRuntimeConfigRequest{
		RuntimeConfig: &runtime.RuntimeConfig{NetworkConfig: &runtime.NetworkConfig{PodCidr: "10.1.0.0/16"}},
	})
	assert.Equal(t, codes.Internal, status.Code(err), "an unmapped domain error is Internal, never Unknown")
}

func TestVerbosity(t *testing.T) {
	tests := map[string]int{
		"ListPodSandbox":     5,
		"PodSandboxStatus":   5,
		"ListContainerStats": 5,
		"Version":            5,
		"RunPodSandbox":      0,
		"CreateContainer":    0,
		"PullImage":          0,
		"RemoveImage":        0,
	}
	for method, want := range tests {
		assert.Equal(t, want, verbosity(method), method)
	}
}

func TestRuntimeFault(t *testing.T) {
	for _, tt := range []struct {
		code  codes.Code
		fault bool
	}{
		{codes.Internal, true},
		{codes.Unknown, true},
		{codes.DataLoss, true},
		{codes.Unavailable, true},
		{codes.NotFound, false},
		{codes.InvalidArgument, false},
		{codes.AlreadyExists, false},
		{codes.FailedPrecondition, false},
		{codes.DeadlineExceeded, false},
		{codes.Canceled, false},
		{codes.Unimplemented, false},
		{codes.ResourceExhausted, false},
		{codes.Unauthenticated, false},
		{codes.PermissionDenied, false},
	} {
		assert.Equal(t, tt.fault, runtimeFault(tt.code), tt.code.String())
	}
}
