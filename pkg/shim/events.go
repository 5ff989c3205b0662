package shim

import (
	"context"
	"errors"
	"fmt"
	"net"

	apievents "github.com/containerd/containerd/api/events"
	eventsapi "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/emptypb"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
)

// maxQueuedEvents bounds the events waiting for OnEvent. Beyond it
// Forward fails with Unavailable and the shim retries later, rather
// than wincri growing without limit or blocking the shim.
const maxQueuedEvents = 16 << 10

// errUnknownEvent marks an envelope whose event wincri does not use.
var errUnknownEvent = errors.New("unknown event type")

// eventServer serves containerd.services.events.ttrpc.v1.Events, which
// shims call to publish task events. runhcs fails Create, Start and
// Delete when nobody receives them.
type eventServer struct {
	listener net.Listener
	server   *ttrpc.Server
	queue    *eventQueue
	logger   klog.Logger
	// dispatched is closed when the dispatcher has stopped.
	dispatched chan struct{}
}

func newEventServer(logger klog.Logger, l net.Listener, onEvent func(Event)) (*eventServer, error) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		return nil, fmt.Errorf("events ttrpc server: %w", err)
	}
	s := &eventServer{
		listener:   l,
		server:     srv,
		queue:      newEventQueue(maxQueuedEvents),
		logger:     logger,
		dispatched: make(chan struct{}),
	}
	eventsapi.RegisterTTRPCEventsService(srv, s)
	go func() {
		defer close(s.dispatched)
		s.queue.run(onEvent)
	}()
	go func() {
		// Serve returns when the server is closed; any other end is
		// worth a log line since shims then cannot publish.
		if err := srv.Serve(context.Background(), l); err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
			logger.Error(err, "Events service stopped")
		}
	}()
	return s, nil
}

// Forward receives one event from a shim. It never waits for OnEvent.
func (s *eventServer) Forward(ctx context.Context, req *eventsapi.ForwardRequest) (*emptypb.Empty, error) {
	ev, err := decodeEnvelope(req.GetEnvelope())
	if errors.Is(err, errUnknownEvent) {
		s.logger.V(5).Info("Ignoring shim event", logkeys.Topic, req.GetEnvelope().GetTopic())
		return &emptypb.Empty{}, nil
	}
	if err != nil {
		s.logger.Error(err, "Bad event from shim", logkeys.Topic, req.GetEnvelope().GetTopic())
		return nil, errgrpc.ToGRPC(err)
	}
	if !s.queue.push(ev) {
		return nil, errgrpc.ToGRPC(fmt.Errorf("event queue full: %w", errdefs.ErrUnavailable))
	}
	return &emptypb.Empty{}, nil
}

func (s *eventServer) close() error {
	err := s.server.Close()
	s.queue.close()
	<-s.dispatched
	if errors.Is(err, ttrpc.ErrServerClosed) {
		return nil
	}
	return err
}

// decodeEnvelope turns a forwarded envelope into an Event.
func decodeEnvelope(env *types.Envelope) (Event, error) {
	if env.GetEvent() == nil {
		return Event{}, fmt.Errorf("event envelope without event: %w", errdefs.ErrInvalidArgument)
	}
	v, err := typeurl.UnmarshalAny(env.GetEvent())
	if errors.Is(err, typeurl.ErrNotFound) {
		return Event{}, fmt.Errorf("%w %q", errUnknownEvent, env.GetEvent().GetTypeUrl())
	}
	if err != nil {
		return Event{}, fmt.Errorf("decode event %q: %w: %w", env.GetEvent().GetTypeUrl(), errdefs.ErrInvalidArgument, err)
	}
	ev := Event{Topic: env.GetTopic(), Namespace: env.GetNamespace(), Timestamp: toTime(env.GetTimestamp())}
	var topic string
	switch e := v.(type) {
	case *apievents.TaskCreate:
		topic, ev.ContainerID, ev.Pid = TopicTaskCreate, e.GetContainerID(), e.GetPid()
	case *apievents.TaskStart:
		topic, ev.ContainerID, ev.Pid = TopicTaskStart, e.GetContainerID(), e.GetPid()
	case *apievents.TaskExit:
		topic, ev.ContainerID, ev.Pid = TopicTaskExit, e.GetContainerID(), e.GetPid()
		ev.ExecID = execIDOf(e.GetID(), e.GetContainerID())
		ev.ExitStatus, ev.ExitedAt = e.GetExitStatus(), toTime(e.GetExitedAt())
	case *apievents.TaskDelete:
		topic, ev.ContainerID, ev.Pid = TopicTaskDelete, e.GetContainerID(), e.GetPid()
		ev.ExecID = execIDOf(e.GetID(), e.GetContainerID())
		ev.ExitStatus, ev.ExitedAt = e.GetExitStatus(), toTime(e.GetExitedAt())
	case *apievents.TaskOOM:
		topic, ev.ContainerID = TopicTaskOOM, e.GetContainerID()
	case *apievents.TaskExecAdded:
		topic, ev.ContainerID, ev.ExecID = TopicTaskExecAdded, e.GetContainerID(), e.GetExecID()
	case *apievents.TaskExecStarted:
		topic, ev.ContainerID, ev.ExecID, ev.Pid = TopicTaskExecStart, e.GetContainerID(), e.GetExecID(), e.GetPid()
	case *apievents.TaskPaused:
		topic, ev.ContainerID = TopicTaskPaused, e.GetContainerID()
	case *apievents.TaskResumed:
		topic, ev.ContainerID = TopicTaskResumed, e.GetContainerID()
	default:
		return Event{}, fmt.Errorf("%w %q", errUnknownEvent, env.GetEvent().GetTypeUrl())
	}
	if ev.Topic == "" {
		ev.Topic = topic
	}
	return ev, nil
}

// execIDOf tells an exec process from a task's init process: shims set
// the process id of an init process to the container id.
func execIDOf(processID, containerID string) string {
	if processID == containerID {
		return ""
	}
	return processID
}
