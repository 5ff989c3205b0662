package cri

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

func TestGetContainerEvents(t *testing.T) {
	rt := &fakeRuntime{
		pods:   []sandbox.Pod{testPod("p1")},
		ctrs:   []sandbox.Container{testContainer("c1", "p1", sandbox.ContainerRunning), testContainer("c2", "p1", sandbox.ContainerExited)},
		events: make(chan sandbox.Event, 8),
	}
	env := newTestEnv(t, Options{Runtime: rt, Events: rt}, true)
	env.log.Expect(`^RPC failed: .*code = Unavailable desc = event subscriber fell too far behind`)
	stream, err := env.runtime.GetContainerEvents(ctx(t), &runtime.GetEventsRequest{})
	require.NoError(t, err)

	at := time.Unix(1700000000, 5)
	rt.events <- sandbox.Event{Type: sandbox.EventCreated, ContainerID: "c1", PodID: "p1", At: at}
	rt.events <- sandbox.Event{Type: sandbox.EventStarted, ContainerID: "c1", PodID: "p1", At: at}
	for _, want := range []runtime.ContainerEventType{runtime.ContainerEventType_CONTAINER_CREATED_EVENT, runtime.ContainerEventType_CONTAINER_STARTED_EVENT} {
		e, err := stream.Recv()
		require.NoError(t, err)
		assert.Equal(t, want, e.ContainerEventType)
		assert.Equal(t, "c1", e.ContainerId)
		assert.Equal(t, at.UnixNano(), e.CreatedAt)
		require.NotNil(t, e.PodSandboxStatus)
		assert.Equal(t, "p1-uid", e.PodSandboxStatus.Metadata.Uid)
		assert.Equal(t, runtime.PodSandboxState_SANDBOX_READY, e.PodSandboxStatus.State)
		assert.Len(t, e.ContainersStatuses, 2)
	}

	// The pod is removed before its last events are sent: they still
	// carry its identity, as not ready.
	rt.pods, rt.ctrs = nil, nil
	rt.events <- sandbox.Event{Type: sandbox.EventDeleted, ContainerID: "c1", PodID: "p1", At: at}
	rt.events <- sandbox.Event{Type: sandbox.EventDeleted, ContainerID: "p9", PodID: "p9", At: at}
	e, err := stream.Recv()
	require.NoError(t, err)
	assert.Equal(t, runtime.ContainerEventType_CONTAINER_DELETED_EVENT, e.ContainerEventType)
	assert.Equal(t, "p1-uid", e.PodSandboxStatus.Metadata.Uid)
	assert.Equal(t, runtime.PodSandboxState_SANDBOX_NOTREADY, e.PodSandboxStatus.State)
	assert.Empty(t, e.ContainersStatuses)
	e, err = stream.Recv()
	require.NoError(t, err)
	assert.Equal(t, "p9", e.PodSandboxStatus.Id)
	assert.NotNil(t, e.PodSandboxStatus.Metadata, "never nil, kubelet reads it")

	// A subscriber that fell behind is told to resubscribe.
	close(rt.events)
	_, err = stream.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err))
}

func TestGetContainerEventsUnimplemented(t *testing.T) {
	env := newTestEnv(t, Options{Runtime: struct{ Runtime }{}}, true)
	stream, err := env.runtime.GetContainerEvents(ctx(t), &runtime.GetEventsRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	assert.Equal(t, codes.Unimplemented, status.Code(err))
}
