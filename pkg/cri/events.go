package cri

import (
	"fmt"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/sandbox"
)

// GetContainerEvents streams container and sandbox lifecycle events,
// each with its pod's status and its containers' statuses, for
// kubelet's evented PLEG. A subscriber that falls too far behind is cut
// off with Unavailable, so that it resubscribes and relists instead of
// missing events silently.
func (s *Server) GetContainerEvents(_ *runtime.GetEventsRequest, srv grpc.ServerStreamingServer[runtime.ContainerEventResponse]) error {
	if s.events == nil {
		return fmt.Errorf("this runtime does not publish events: %w", errdefs.ErrNotImplemented)
	}
	ctx := srv.Context()
	events, cancel := s.events.Subscribe()
	defer cancel()
	// lastPods keeps the last status sent for each pod, so that the
	// events of a pod removed meanwhile still name it.
	lastPods := map[string]*runtime.PodSandboxStatus{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-events:
			if !ok {
				return fmt.Errorf("event subscriber fell too far behind, resubscribe: %w", errdefs.ErrUnavailable)
			}
			resp := s.containerEvent(e, lastPods)
			if err := srv.Send(resp); err != nil {
				klog.FromContext(ctx).V(4).Info("Event subscriber went away", "err", err)
				return nil
			}
			if e.Type == sandbox.EventDeleted && e.ContainerID == e.PodID {
				delete(lastPods, e.PodID)
			}
		}
	}
}

func (s *Server) containerEvent(e sandbox.Event, lastPods map[string]*runtime.PodSandboxStatus) *runtime.ContainerEventResponse {
	resp := &runtime.ContainerEventResponse{
		ContainerId:        e.ContainerID,
		ContainerEventType: toCRIEventType(e.Type),
		CreatedAt:          e.At.UnixNano(),
	}
	if p, err := s.runtime.PodStatus(e.PodID); err == nil {
		resp.PodSandboxStatus = toCRIPodStatus(p)
		lastPods[e.PodID] = resp.PodSandboxStatus
	} else if last, ok := lastPods[e.PodID]; ok {
		gone := proto.Clone(last).(*runtime.PodSandboxStatus)
		gone.State = runtime.PodSandboxState_SANDBOX_NOTREADY
		resp.PodSandboxStatus = gone
	} else {
		// Never seen and already gone: kubelet still needs the id and a
		// non-nil metadata to match the event to a pod.
		resp.PodSandboxStatus = &runtime.PodSandboxStatus{Id: e.PodID, Metadata: &runtime.PodSandboxMetadata{}, State: runtime.PodSandboxState_SANDBOX_NOTREADY}
	}
	for _, c := range s.runtime.ListContainers(sandbox.ContainerFilter{PodID: e.PodID}) {
		if c.PodID == e.PodID {
			resp.ContainersStatuses = append(resp.ContainersStatuses, toCRIContainerStatus(c))
		}
	}
	return resp
}

func toCRIEventType(t sandbox.EventType) runtime.ContainerEventType {
	switch t {
	case sandbox.EventCreated:
		return runtime.ContainerEventType_CONTAINER_CREATED_EVENT
	case sandbox.EventStarted:
		return runtime.ContainerEventType_CONTAINER_STARTED_EVENT
	case sandbox.EventStopped:
		return runtime.ContainerEventType_CONTAINER_STOPPED_EVENT
	default:
		return runtime.ContainerEventType_CONTAINER_DELETED_EVENT
	}
}
