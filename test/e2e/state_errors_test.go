//go:build linux

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// stateCase is a well-formed request that the objects' state refuses.
type stateCase struct {
	name string
	code codes.Code
	// names is what the message must name: the object's id or name.
	names func(s *stateEnv) string
	call  func(ctx context.Context, d *daemon, s *stateEnv) error
}

// stateEnv holds an object in each state the cases need.
type stateEnv struct {
	pod, stoppedPod       *runtime.PodSandboxConfig
	podID, stoppedPodID   string
	running, created      string
	exited                string
	missingPod, missingID string
}

var (
	missingCtr = func(s *stateEnv) string { return s.missingID }
	missingPod = func(s *stateEnv) string { return s.missingPod }
	runningCtr = func(s *stateEnv) string { return s.running }
	createdCtr = func(s *stateEnv) string { return s.created }
	exitedCtr  = func(s *stateEnv) string { return s.exited }
	stoppedPod = func(s *stateEnv) string { return s.stoppedPodID }
)

func stateCases() []stateCase {
	return []stateCase{
		// Objects that do not exist.
		{name: "pod status: unknown pod", code: codes.NotFound, names: missingPod, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: s.missingPod})
			return err
		}},
		{name: "pod stats: unknown pod", code: codes.NotFound, names: missingPod, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.PodSandboxStats(ctx, &runtime.PodSandboxStatsRequest{PodSandboxId: s.missingPod})
			return err
		}},
		{name: "create container: unknown pod", code: codes.NotFound, names: missingPod, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: s.missingPod, Config: containerConfig("orphan", "/bin/true"), SandboxConfig: s.pod})
			return err
		}},
		{name: "port forward: unknown pod", code: codes.NotFound, names: missingPod, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.PortForward(ctx, &runtime.PortForwardRequest{PodSandboxId: s.missingPod, Port: []int32{80}})
			return err
		}},
		{name: "container status: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: s.missingID})
			return err
		}},
		{name: "container stats: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ContainerStats(ctx, &runtime.ContainerStatsRequest{ContainerId: s.missingID})
			return err
		}},
		{name: "start: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: s.missingID})
			return err
		}},
		{name: "update resources: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.UpdateContainerResources(ctx, &runtime.UpdateContainerResourcesRequest{ContainerId: s.missingID, Linux: &runtime.LinuxContainerResources{}})
			return err
		}},
		{name: "reopen log: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ReopenContainerLog(ctx, &runtime.ReopenContainerLogRequest{ContainerId: s.missingID})
			return err
		}},
		{name: "exec sync: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: s.missingID, Cmd: []string{"/bin/true"}})
			return err
		}},
		{name: "exec: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.Exec(ctx, &runtime.ExecRequest{ContainerId: s.missingID, Cmd: []string{"/bin/true"}, Stdout: true})
			return err
		}},
		{name: "attach: unknown container", code: codes.NotFound, names: missingCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.Attach(ctx, &runtime.AttachRequest{ContainerId: s.missingID, Stdout: true})
			return err
		}},

		// Objects in the wrong state.
		{name: "start: running container", code: codes.FailedPrecondition, names: runningCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: s.running})
			return err
		}},
		{name: "start: exited container", code: codes.FailedPrecondition, names: exitedCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: s.exited})
			return err
		}},
		{name: "exec sync: created container", code: codes.FailedPrecondition, names: createdCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: s.created, Cmd: []string{"/bin/true"}})
			return err
		}},
		{name: "exec sync: exited container", code: codes.FailedPrecondition, names: exitedCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: s.exited, Cmd: []string{"/bin/true"}})
			return err
		}},
		{name: "exec: exited container", code: codes.FailedPrecondition, names: exitedCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.Exec(ctx, &runtime.ExecRequest{ContainerId: s.exited, Cmd: []string{"/bin/true"}, Stdout: true})
			return err
		}},
		{name: "attach: exited container", code: codes.FailedPrecondition, names: exitedCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.Attach(ctx, &runtime.AttachRequest{ContainerId: s.exited, Stdout: true})
			return err
		}},
		{name: "reopen log: exited container", code: codes.FailedPrecondition, names: exitedCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.ReopenContainerLog(ctx, &runtime.ReopenContainerLogRequest{ContainerId: s.exited})
			return err
		}},
		{name: "update resources: exited container", code: codes.FailedPrecondition, names: exitedCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.UpdateContainerResources(ctx, &runtime.UpdateContainerResourcesRequest{ContainerId: s.exited, Linux: &runtime.LinuxContainerResources{CpuShares: 512}})
			return err
		}},
		{name: "create container: stopped pod", code: codes.FailedPrecondition, names: stoppedPod, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: s.stoppedPodID, Config: containerConfig("late", "/bin/true"), SandboxConfig: s.stoppedPod})
			return err
		}},
		{name: "port forward: stopped pod", code: codes.FailedPrecondition, names: stoppedPod, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.PortForward(ctx, &runtime.PortForwardRequest{PodSandboxId: s.stoppedPodID, Port: []int32{80}})
			return err
		}},

		// Names already taken by another request (a retry of the same
		// request gets the object the first one built).
		{name: "run pod: name in use", code: codes.AlreadyExists, names: func(s *stateEnv) string { return s.podID }, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			other := proto.Clone(s.pod).(*runtime.PodSandboxConfig)
			other.Hostname = "another-request"
			_, err := d.rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: other})
			return err
		}},
		{name: "create container: name in use", code: codes.AlreadyExists, names: runningCtr, call: func(ctx context.Context, d *daemon, s *stateEnv) error {
			_, err := d.rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: s.podID, Config: shellContainer("running", "sleep 2000"), SandboxConfig: s.pod})
			return err
		}},
	}
}

// TestStateErrorsOfEveryRPC walks the NotFound, FailedPrecondition and
// AlreadyExists paths of every RPC against the real daemon: each answer
// has the class's code, a message naming the object, no code words in the
// text, and nothing changes.
func TestStateErrorsOfEveryRPC(t *testing.T) {
	d := newDaemon(t)
	d.start("")
	d.pullTestImage()
	s := &stateEnv{
		pod:        d.podConfig("errors-pod"),
		stoppedPod: d.podConfig("errors-stopped"),
		missingPod: strings.Repeat("ab", 32),
		missingID:  strings.Repeat("cd", 32),
	}
	s.podID = d.runPod(s.pod)
	s.running = d.runContainer(s.podID, s.pod, shellContainer("running", "sleep 1000"))
	s.created = d.createContainer(s.podID, s.pod, shellContainer("created", "sleep 1000"))
	s.exited = d.runContainer(s.podID, s.pod, containerConfig("exited", "/bin/true"))
	d.waitContainerState(s.exited, runtime.ContainerState_CONTAINER_EXITED, 30*time.Second)
	s.stoppedPodID = d.runPod(s.stoppedPod)
	_, err := d.rt.StopPodSandbox(d.ctx(), &runtime.StopPodSandboxRequest{PodSandboxId: s.stoppedPodID})
	require.NoError(t, err)

	for _, tc := range stateCases() {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(d.ctx(), d, s)
			require.Error(t, err, "the request was accepted")
			st, _ := status.FromError(err)
			assert.Equal(t, tc.code, st.Code(), "%v", err)
			assert.Contains(t, st.Message(), tc.names(s), "the message does not name the object")
			assert.NotRegexp(t, classWords, st.Message(), "the message repeats what the code says")
		})
	}

	// The CRI makes these idempotent (api.proto): an object already gone
	// is success, never NotFound, or kubelet's cleanup would loop.
	idempotent := map[string]func(ctx context.Context) error{
		"stop container": func(ctx context.Context) error {
			_, err := d.rt.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: s.missingID})
			return err
		},
		"remove container": func(ctx context.Context) error {
			_, err := d.rt.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: s.missingID})
			return err
		},
		"stop pod": func(ctx context.Context) error {
			_, err := d.rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: s.missingPod})
			return err
		},
		"remove pod": func(ctx context.Context) error {
			_, err := d.rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: s.missingPod})
			return err
		},
		"remove image": func(ctx context.Context) error {
			_, err := d.img.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: "example.test/absent:1"}})
			return err
		},
		"image status": func(ctx context.Context) error {
			resp, err := d.img.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: "example.test/absent:1"}})
			if err == nil && resp.GetImage() != nil {
				t.Errorf("ImageStatus of an absent image returned %v, want no image", resp.GetImage())
			}
			return err
		},
	}
	for name, call := range idempotent {
		t.Run(name+": already gone", func(t *testing.T) {
			assert.NoError(t, call(d.ctx()))
		})
	}

	require.True(t, d.running(), "wincri died")
	assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, d.containerStatus(s.running).GetState())
	assert.Equal(t, runtime.ContainerState_CONTAINER_CREATED, d.containerStatus(s.created).GetState())
	ctrs, err := d.rt.ListContainers(d.ctx(), &runtime.ListContainersRequest{})
	require.NoError(t, err)
	assert.Len(t, ctrs.GetContainers(), 3, "containers after the refused requests")
	d.assertConsistent(t)
	d.removePod(s.podID)
	d.removePod(s.stoppedPodID)
	d.assertNothingLeft(t)
}
