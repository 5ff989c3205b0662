//go:build linux

package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/faultpoint"
)

// crashEnv is what a crash case works on.
type crashEnv struct {
	pod    *runtime.PodSandboxConfig
	podID  string
	ctrID  string
	fresh  *runtime.PodSandboxConfig // a pod config not yet run
	freshC *runtime.ContainerConfig  // a container config not yet created
}

// crashCase kills wincri at one fault point of one operation.
type crashCase struct {
	point string
	// prepare runs before the fault point is armed.
	prepare func(t *testing.T, d *daemon, e *crashEnv)
	// act is the request during which wincri dies.
	act func(ctx context.Context, d *daemon, e *crashEnv) error
	// check runs after the restart: the object is finished or gone, and a
	// retry of the request, as kubelet makes, succeeds.
	check func(t *testing.T, d *daemon, e *crashEnv)
}

// readyPod runs a pod with one long-running container.
func readyPod(t *testing.T, d *daemon, e *crashEnv) {
	e.pod = d.podConfig("victim")
	e.podID = d.runPod(e.pod)
	e.ctrID = d.runContainer(e.podID, e.pod, shellContainer("victim", `trap 'exit 3' TERM; while true; do sleep 0.1; done`))
}

func runFresh(ctx context.Context, d *daemon, e *crashEnv) error {
	_, err := d.rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: e.fresh})
	return err
}

// checkPodFinishedOrGone: the pod of an interrupted RunPodSandbox is
// either gone or ready, and kubelet's retry gets a ready pod.
func checkPodFinishedOrGone(t *testing.T, d *daemon, e *crashEnv) {
	pods, err := d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{})
	require.NoError(t, err)
	for _, p := range pods.GetItems() {
		if p.GetMetadata().GetName() == e.fresh.GetMetadata().GetName() {
			assert.Equal(t, runtime.PodSandboxState_SANDBOX_READY, p.GetState(), "a pod left by the interrupted RunPodSandbox")
		}
	}
	id := d.runPod(e.fresh)
	assert.Equal(t, runtime.PodSandboxState_SANDBOX_READY, d.podStatus(id).GetState())
	c := d.runContainer(id, e.fresh, shellContainer("after", "echo ok; sleep 1000"))
	assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, d.containerStatus(c).GetState())
}

func stopVictim(ctx context.Context, d *daemon, e *crashEnv) error {
	_, err := d.rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: e.podID})
	return err
}

// checkVictimStops: kubelet's retry of an interrupted StopPodSandbox
// stops the pod, and its network is gone.
func checkVictimStops(t *testing.T, d *daemon, e *crashEnv) {
	_, err := d.rt.StopPodSandbox(d.ctx(), &runtime.StopPodSandboxRequest{PodSandboxId: e.podID})
	require.NoError(t, err)
	assert.Equal(t, runtime.PodSandboxState_SANDBOX_NOTREADY, d.podStatus(e.podID).GetState())
	assert.NotContains(t, dirNames(d.netnsDir()), e.podID, "the pod's network namespace")
}

func createFresh(ctx context.Context, d *daemon, e *crashEnv) error {
	_, err := d.rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: e.podID, Config: e.freshC, SandboxConfig: e.pod})
	return err
}

// checkContainerFinishedOrGone: the container of an interrupted
// CreateContainer is gone or created, and a retry creates one that runs.
func checkContainerFinishedOrGone(t *testing.T, d *daemon, e *crashEnv) {
	ctrs, err := d.rt.ListContainers(d.ctx(), &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{PodSandboxId: e.podID}})
	require.NoError(t, err)
	for _, c := range ctrs.GetContainers() {
		if c.GetMetadata().GetName() == e.freshC.GetMetadata().GetName() {
			assert.Equal(t, runtime.ContainerState_CONTAINER_CREATED, c.GetState(), "a container left by the interrupted CreateContainer")
		}
	}
	id := d.createContainer(e.podID, e.pod, e.freshC)
	d.startContainer(id)
	assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, d.containerStatus(id).GetState())
}

func crashCases() []crashCase {
	freshPod := func(t *testing.T, d *daemon, e *crashEnv) { e.fresh = d.podConfig("fresh") }
	freshCtr := func(t *testing.T, d *daemon, e *crashEnv) {
		readyPod(t, d, e)
		e.freshC = shellContainer("fresh", "echo fresh; sleep 1000")
	}
	return []crashCase{
		{point: faultpoint.PodBeforeNetworkRecord, prepare: freshPod, act: runFresh, check: checkPodFinishedOrGone},
		{point: faultpoint.PodAfterNetwork, prepare: freshPod, act: runFresh, check: checkPodFinishedOrGone},
		{point: faultpoint.PodAfterShimLaunch, prepare: freshPod, act: runFresh, check: checkPodFinishedOrGone},
		{point: faultpoint.PodAfterTaskCreate, prepare: freshPod, act: runFresh, check: checkPodFinishedOrGone},
		{point: faultpoint.ContainerAfterRootfs, prepare: freshCtr, act: createFresh, check: checkContainerFinishedOrGone},
		{point: faultpoint.ContainerAfterSpec, prepare: freshCtr, act: createFresh, check: checkContainerFinishedOrGone},
		{
			point: faultpoint.ContainerAfterTask,
			prepare: func(t *testing.T, d *daemon, e *crashEnv) {
				freshCtr(t, d, e)
				e.ctrID = d.createContainer(e.podID, e.pod, e.freshC)
			},
			act: func(ctx context.Context, d *daemon, e *crashEnv) error {
				_, err := d.rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: e.ctrID})
				return err
			},
			check: func(t *testing.T, d *daemon, e *crashEnv) {
				// Either the start is finished (running) or undone: the
				// container is created and kubelet's retry starts it, or it
				// is reported exited and kubelet makes a new one.
				st := d.containerStatus(e.ctrID)
				switch st.GetState() {
				case runtime.ContainerState_CONTAINER_CREATED:
					d.startContainer(e.ctrID)
					assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, d.containerStatus(e.ctrID).GetState())
				case runtime.ContainerState_CONTAINER_RUNNING, runtime.ContainerState_CONTAINER_EXITED:
				default:
					t.Errorf("container of the interrupted StartContainer is %s", st.GetState())
				}
			},
		},
		{
			point:   faultpoint.ContainerAfterStopKill,
			prepare: readyPod,
			act: func(ctx context.Context, d *daemon, e *crashEnv) error {
				_, err := d.rt.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: e.ctrID, Timeout: 30})
				return err
			},
			check: func(t *testing.T, d *daemon, e *crashEnv) {
				// The container exited on the signal while wincri was down:
				// its real exit code is reported.
				st := d.waitContainerState(e.ctrID, runtime.ContainerState_CONTAINER_EXITED, 30*time.Second)
				assert.Equal(t, int32(3), st.GetExitCode())
				_, err := d.rt.StopContainer(d.ctx(), &runtime.StopContainerRequest{ContainerId: e.ctrID, Timeout: 30})
				require.NoError(t, err)
			},
		},
		{
			point:   faultpoint.ContainerAfterDelete,
			prepare: readyPod,
			act: func(ctx context.Context, d *daemon, e *crashEnv) error {
				_, err := d.rt.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: e.ctrID})
				return err
			},
			check: func(t *testing.T, d *daemon, e *crashEnv) {
				_, err := d.rt.RemoveContainer(d.ctx(), &runtime.RemoveContainerRequest{ContainerId: e.ctrID})
				require.NoError(t, err)
				ctrs, err := d.rt.ListContainers(d.ctx(), &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{Id: e.ctrID}})
				require.NoError(t, err)
				assert.Empty(t, ctrs.GetContainers())
			},
		},
		{point: faultpoint.PodStopBeforeTeardown, prepare: readyPod, act: stopVictim, check: checkVictimStops},
		{point: faultpoint.PodStopAfterTeardown, prepare: readyPod, act: stopVictim, check: checkVictimStops},
		{
			point:   faultpoint.PodAfterNetworkTeardown,
			prepare: readyPod,
			act: func(ctx context.Context, d *daemon, e *crashEnv) error {
				_, err := d.rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: e.podID})
				return err
			},
			check: func(t *testing.T, d *daemon, e *crashEnv) {
				_, err := d.rt.RemovePodSandbox(d.ctx(), &runtime.RemovePodSandboxRequest{PodSandboxId: e.podID})
				require.NoError(t, err)
				pods, err := d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{Id: e.podID}})
				require.NoError(t, err)
				assert.Empty(t, pods.GetItems())
			},
		},
		{point: faultpoint.PullMidDownload, act: pullExtra, check: checkPulled},
		{point: faultpoint.PullAfterContent, act: pullExtra, check: checkPulled},
		{point: faultpoint.PullBeforeRecord, act: pullExtra, check: checkPulled},
	}
}

func pullExtra(ctx context.Context, d *daemon, _ *crashEnv) error {
	_, err := d.img.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: suite.registry.extraImageRef()}})
	return err
}

// checkPulled: no partial download is left, and the retried pull gives
// an image containers run from.
func checkPulled(t *testing.T, d *daemon, e *crashEnv) {
	assert.Empty(t, dirNames(filepath.Join(d.root, "images", "content", "ingest")), "partial downloads")
	ref := suite.registry.extraImageRef()
	_, err := d.img.PullImage(d.ctx(), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	require.NoError(t, err)
	pod := d.podConfig("puller")
	podID := d.runPod(pod)
	cfg := containerConfig("extra", "/bin/sh", "-c", "test -s /payload && echo has-extra")
	cfg.Image.Image = ref
	id := d.runContainer(podID, pod, cfg)
	st := d.waitContainerState(id, runtime.ContainerState_CONTAINER_EXITED, 30*time.Second)
	assert.Equal(t, int32(0), st.GetExitCode())
	waitLogLine(t, filepath.Join(pod.GetLogDirectory(), "extra.log"), "stdout", "has-extra", 10*time.Second)
}

// TestCrashAtFaultPoints kills wincri (SIGKILL) at each fault point, with
// another pod running a counter meanwhile, restarts it and checks the
// invariants: state matches the shims and the disk, the interrupted
// object is finished or gone, nothing is orphaned, and the other pod's
// container kept running and logging without losing or repeating a line.
func TestCrashAtFaultPoints(t *testing.T) {
	for _, tc := range crashCases() {
		t.Run(tc.point, func(t *testing.T) {
			d := newDaemon(t)
			d.start("")
			d.pullTestImage()
			survivor := d.podConfig("survivor")
			survivorID := d.runPod(survivor)
			counter := d.runContainer(survivorID, survivor, shellContainer("counter", counterScript))
			counterLog := filepath.Join(survivor.GetLogDirectory(), "counter.log")
			counterPid := runcPid(t, counter)
			e := &crashEnv{}
			if tc.prepare != nil {
				tc.prepare(t, d, e)
			}
			d.stop()

			require.NoError(t, d.startProcess(tc.point))
			require.NoError(t, d.waitReady(60*time.Second))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := tc.act(ctx, d, e)
			require.Error(t, err, "the request finished although wincri should have died in it")
			require.NoError(t, d.waitExit(30*time.Second))
			require.True(t, d.killedBySIGKILL(), "wincri ended with %v, not at the fault point", d.exit)
			linesBefore := checkCounter(t, counterLog)

			d.start("")
			d.assertConsistent(t)
			tc.check(t, d, e)
			d.assertConsistent(t)

			st := d.containerStatus(counter)
			assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, st.GetState())
			assert.Equal(t, counterPid, runcPid(t, counter), "the counter container was restarted")
			require.Eventually(t, func() bool { return checkCounter(t, counterLog) > linesBefore+10 },
				20*time.Second, 200*time.Millisecond, "the counter stopped logging after the restart")

			d.removeAllPods()
			d.skipOnLeftoverShim(t)
			d.assertNothingLeft(t)
		})
	}
}
