//go:build !windows

package shim

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	apievents "github.com/containerd/containerd/api/events"
	taskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	eventsapi "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/ttrpc"
	"github.com/stretchr/testify/require"
)

// BenchmarkEventForward measures one event from a shim's Forward call
// to OnEvent, over the unix socket.
func BenchmarkEventForward(b *testing.B) {
	var delivered atomic.Int64
	d, err := NewManager(ManagerOpts{StateDir: shortDir(b), OnEvent: func(Event) { delivered.Add(1) }})
	require.NoError(b, err)
	defer d.Close()
	c, err := net.Dial("unix", d.EventsAddress())
	require.NoError(b, err)
	client := ttrpc.NewClient(c)
	defer client.Close()
	events := eventsapi.NewTTRPCEventsClient(client)
	req := &eventsapi.ForwardRequest{Envelope: envelope(b, TopicTaskExit, &apievents.TaskExit{ContainerID: "ctr1", ID: "ctr1", Pid: 1, ExitStatus: 137})}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := events.Forward(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEnvelope measures decoding one forwarded TaskExit.
func BenchmarkDecodeEnvelope(b *testing.B) {
	env := envelope(b, TopicTaskExit, &apievents.TaskExit{ContainerID: "ctr1", ID: "ctr1", Pid: 1, ExitStatus: 137})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeEnvelope(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTaskState measures one task API call round trip through a
// Shim handle to an in-process task service.
func BenchmarkTaskState(b *testing.B) {
	addr, _ := serveFake(b, func(s *ttrpc.Server) { taskv2.RegisterTTRPCTaskService(s, &fakeTaskV2{shimPid: 1}) })
	d, err := NewManager(ManagerOpts{StateDir: shortDir(b)})
	require.NoError(b, err)
	defer d.Close()
	ctx := context.Background()
	s, err := d.Connect(ctx, Address{Address: addr, Version: 2})
	require.NoError(b, err)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.State(ctx, "ctr1", ""); err != nil {
			b.Fatal(err)
		}
	}
}
