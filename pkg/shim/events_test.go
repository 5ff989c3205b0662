package shim

import (
	"context"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	eventsapi "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var (
	exitedAt = time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	sentAt   = exitedAt.Add(time.Millisecond)
)

func envelope(t testing.TB, topic string, ev proto.Message) *types.Envelope {
	t.Helper()
	a, err := typeurl.MarshalAnyToProto(ev)
	require.NoError(t, err)
	return &types.Envelope{Timestamp: timestamppb.New(sentAt), Namespace: "wincri", Topic: topic, Event: a}
}

func TestDecodeEnvelope(t *testing.T) {
	ts := timestamppb.New(exitedAt)
	base := Event{Namespace: "wincri", Timestamp: sentAt, ContainerID: "ctr1"}
	with := func(f func(*Event)) Event {
		ev := base
		f(&ev)
		return ev
	}
	tests := []struct {
		name  string
		topic string
		event proto.Message
		want  Event
	}{
		{
			name: "exit of init", topic: TopicTaskExit,
			event: &apievents.TaskExit{ContainerID: "ctr1", ID: "ctr1", Pid: 42, ExitStatus: 137, ExitedAt: ts},
			want:  with(func(e *Event) { e.Topic, e.Pid, e.ExitStatus, e.ExitedAt = TopicTaskExit, 42, 137, exitedAt }),
		},
		{
			name: "exit of exec", topic: TopicTaskExit,
			event: &apievents.TaskExit{ContainerID: "ctr1", ID: "exec1", Pid: 43, ExitStatus: 7, ExitedAt: ts},
			want: with(func(e *Event) {
				e.Topic, e.ExecID, e.Pid, e.ExitStatus, e.ExitedAt = TopicTaskExit, "exec1", 43, 7, exitedAt
			}),
		},
		{
			name: "create", topic: TopicTaskCreate,
			event: &apievents.TaskCreate{ContainerID: "ctr1", Bundle: "/b", Pid: 42},
			want:  with(func(e *Event) { e.Topic, e.Pid = TopicTaskCreate, 42 }),
		},
		{
			name: "start", topic: TopicTaskStart,
			event: &apievents.TaskStart{ContainerID: "ctr1", Pid: 42},
			want:  with(func(e *Event) { e.Topic, e.Pid = TopicTaskStart, 42 }),
		},
		{
			name: "delete", topic: TopicTaskDelete,
			event: &apievents.TaskDelete{ContainerID: "ctr1", Pid: 42, ExitStatus: 1, ExitedAt: ts},
			want:  with(func(e *Event) { e.Topic, e.Pid, e.ExitStatus, e.ExitedAt = TopicTaskDelete, 42, 1, exitedAt }),
		},
		{
			name: "oom", topic: TopicTaskOOM,
			event: &apievents.TaskOOM{ContainerID: "ctr1"},
			want:  with(func(e *Event) { e.Topic = TopicTaskOOM }),
		},
		{
			name: "exec added", topic: TopicTaskExecAdded,
			event: &apievents.TaskExecAdded{ContainerID: "ctr1", ExecID: "exec1"},
			want:  with(func(e *Event) { e.Topic, e.ExecID = TopicTaskExecAdded, "exec1" }),
		},
		{
			name: "exec started", topic: TopicTaskExecStart,
			event: &apievents.TaskExecStarted{ContainerID: "ctr1", ExecID: "exec1", Pid: 44},
			want:  with(func(e *Event) { e.Topic, e.ExecID, e.Pid = TopicTaskExecStart, "exec1", 44 }),
		},
		{
			name: "paused", topic: TopicTaskPaused,
			event: &apievents.TaskPaused{ContainerID: "ctr1"},
			want:  with(func(e *Event) { e.Topic = TopicTaskPaused }),
		},
		{
			name: "resumed", topic: TopicTaskResumed,
			event: &apievents.TaskResumed{ContainerID: "ctr1"},
			want:  with(func(e *Event) { e.Topic = TopicTaskResumed }),
		},
		{
			name: "topic missing from envelope", topic: "",
			event: &apievents.TaskOOM{ContainerID: "ctr1"},
			want:  with(func(e *Event) { e.Topic = TopicTaskOOM }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEnvelope(envelope(t, tt.topic, tt.event))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     *types.Envelope
		wantErr error
	}{
		{name: "nil", env: nil, wantErr: errdefs.ErrInvalidArgument},
		{name: "no event", env: &types.Envelope{Topic: TopicTaskExit}, wantErr: errdefs.ErrInvalidArgument},
		{
			name:    "corrupt event",
			env:     &types.Envelope{Event: &anypb.Any{TypeUrl: "containerd.events.TaskExit", Value: []byte{0xff, 0xff}}},
			wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:    "unknown type",
			env:     &types.Envelope{Event: &anypb.Any{TypeUrl: "example.com/NotAnEvent"}},
			wantErr: errUnknownEvent,
		},
		{
			name:    "known type wincri does not use",
			env:     envelope(t, "/containers/create", &apievents.ContainerCreate{ID: "c"}),
			wantErr: errUnknownEvent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeEnvelope(tt.env)
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

// eventsClient dials the Driver's events service like a shim does.
func eventsClient(t *testing.T, d *Driver) eventsapi.TTRPCEventsService {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("dials a unix socket")
	}
	c, err := net.Dial("unix", d.EventsAddress())
	require.NoError(t, err)
	client := ttrpc.NewClient(c)
	t.Cleanup(func() { _ = client.Close() })
	return eventsapi.NewTTRPCEventsClient(client)
}

func TestEventsServiceDoesNotWaitForOnEvent(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var got []Event
	d, err := NewManager(ManagerOpts{
		StateDir: filepath.Join(shortDir(t), "state"),
		OnEvent: func(ev Event) {
			<-release // a receiver that is stuck
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	defer d.Close()
	client := eventsClient(t, d)

	// Forward returns although OnEvent is blocked; a hang here would end
	// the test by its deadline, not by a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 100
	for i := range n {
		_, err := client.Forward(ctx, &eventsapi.ForwardRequest{
			Envelope: envelope(t, TopicTaskExit, &apievents.TaskExit{ContainerID: "ctr1", ID: "ctr1", Pid: uint32(i)}),
		})
		require.NoError(t, err)
	}
	// Events of types wincri ignores are accepted, not failed.
	_, err = client.Forward(ctx, &eventsapi.ForwardRequest{Envelope: envelope(t, "/containers/create", &apievents.ContainerCreate{ID: "c"})})
	require.NoError(t, err)
	// A malformed event is refused.
	_, err = client.Forward(ctx, &eventsapi.ForwardRequest{Envelope: &types.Envelope{Topic: TopicTaskExit}})
	require.ErrorIs(t, fromShim(err), errdefs.ErrInvalidArgument)

	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	}, 10*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i, ev := range got {
		assert.EqualValues(t, i, ev.Pid, "events arrive in order")
		assert.Equal(t, "ctr1", ev.ContainerID)
	}
}

func TestEventQueue(t *testing.T) {
	q := newEventQueue(2)
	assert.True(t, q.push(Event{Pid: 1}))
	assert.True(t, q.push(Event{Pid: 2}))
	assert.False(t, q.push(Event{Pid: 3}), "a full queue refuses, the shim retries")

	var got []uint32
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.run(func(ev Event) {
			got = append(got, ev.Pid)
			if ev.Pid == 2 {
				q.close()
			}
		})
	}()
	<-done
	assert.Equal(t, []uint32{1, 2}, got)
	assert.False(t, q.push(Event{Pid: 4}), "a closed queue refuses")
}
