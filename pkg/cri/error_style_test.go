package cri

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// classWordsInMessage finds a gRPC code's words that a wrapped error
// sentinel added to a message: the code carries the class, the message
// says what was wrong and names the field or object.
var classWordsInMessage = regexp.MustCompile(`(^|: )(invalid argument|not found|failed precondition|already exists|unavailable|not implemented|resource exhausted|unknown)(:|$)`)

// TestErrorStyleOfEveryRPC sends every RPC that takes input an empty
// request: each answer is an error with a class code (never Unknown) and
// a message that names what is missing without repeating the code.
func TestErrorStyleOfEveryRPC(t *testing.T) {
	env := newTestEnv(t, Options{Runtime: &fuzzRuntime{}}, true)
	rt, img := env.runtime, env.images
	calls := map[string]func(context.Context) error{
		"RunPodSandbox": func(ctx context.Context) error {
			_, err := rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{})
			return err
		},
		"StopPodSandbox": func(ctx context.Context) error {
			_, err := rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{})
			return err
		},
		"RemovePodSandbox": func(ctx context.Context) error {
			_, err := rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{})
			return err
		},
		"PodSandboxStatus": func(ctx context.Context) error {
			_, err := rt.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{})
			return err
		},
		"CreateContainer": func(ctx context.Context) error {
			_, err := rt.CreateContainer(ctx, &runtime.CreateContainerRequest{})
			return err
		},
		"StartContainer": func(ctx context.Context) error {
			_, err := rt.StartContainer(ctx, &runtime.StartContainerRequest{})
			return err
		},
		"StopContainer": func(ctx context.Context) error {
			_, err := rt.StopContainer(ctx, &runtime.StopContainerRequest{})
			return err
		},
		"RemoveContainer": func(ctx context.Context) error {
			_, err := rt.RemoveContainer(ctx, &runtime.RemoveContainerRequest{})
			return err
		},
		"ContainerStatus": func(ctx context.Context) error {
			_, err := rt.ContainerStatus(ctx, &runtime.ContainerStatusRequest{})
			return err
		},
		"UpdateContainerResources": func(ctx context.Context) error {
			_, err := rt.UpdateContainerResources(ctx, &runtime.UpdateContainerResourcesRequest{})
			return err
		},
		"ReopenContainerLog": func(ctx context.Context) error {
			_, err := rt.ReopenContainerLog(ctx, &runtime.ReopenContainerLogRequest{})
			return err
		},
		"ExecSync": func(ctx context.Context) error {
			_, err := rt.ExecSync(ctx, &runtime.ExecSyncRequest{})
			return err
		},
		"Exec": func(ctx context.Context) error {
			_, err := rt.Exec(ctx, &runtime.ExecRequest{})
			return err
		},
		"Attach": func(ctx context.Context) error {
			_, err := rt.Attach(ctx, &runtime.AttachRequest{})
			return err
		},
		"PortForward": func(ctx context.Context) error {
			_, err := rt.PortForward(ctx, &runtime.PortForwardRequest{})
			return err
		},
		"ContainerStats": func(ctx context.Context) error {
			_, err := rt.ContainerStats(ctx, &runtime.ContainerStatsRequest{})
			return err
		},
		"PodSandboxStats": func(ctx context.Context) error {
			_, err := rt.PodSandboxStats(ctx, &runtime.PodSandboxStatsRequest{})
			return err
		},
		"UpdateRuntimeConfig": func(ctx context.Context) error {
			_, err := rt.UpdateRuntimeConfig(ctx, &runtime.UpdateRuntimeConfigRequest{RuntimeConfig: &runtime.RuntimeConfig{NetworkConfig: &runtime.NetworkConfig{PodCidr: "10.0.0.0/99"}}})
			return err
		},
		"PullImage": func(ctx context.Context) error {
			_, err := img.PullImage(ctx, &runtime.PullImageRequest{})
			return err
		},
		"ImageStatus": func(ctx context.Context) error {
			_, err := img.ImageStatus(ctx, &runtime.ImageStatusRequest{})
			return err
		},
		"RemoveImage": func(ctx context.Context) error {
			_, err := img.RemoveImage(ctx, &runtime.RemoveImageRequest{})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(ctx(t))
			st, ok := status.FromError(err)
			if !assert.True(t, ok && err != nil, "an empty request is refused: %v", err) {
				return
			}
			assert.NotEqual(t, codes.Unknown, st.Code())
			assert.NotEqual(t, codes.Internal, st.Code(), "%v", err)
			assert.NotEmpty(t, st.Message())
			assert.NotRegexp(t, classWordsInMessage, st.Message(), "the message repeats what the code says")
		})
	}
}
