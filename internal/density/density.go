// Package density creates many pods at once through the CRI, each a
// sandbox and one small container, deletes them, and measures how the
// runtime holds up: each pod's time to running, the total, and what the
// runtime process holds before, with every pod running, and after.
// test/e2e runs it small in CI; hack/density runs it against any CRI
// endpoint, wincri's or containerd's, for hack/bench.sh.
package density

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Options say what to create.
type Options struct {
	Pods int
	// Image is the containers' image; it is pulled first.
	Image string
	// Command keeps a container running; sleep by default.
	Command []string
	// LogDir holds the pods' log directories.
	LogDir string
	// Handler is the RuntimeClass handler, "" for the default.
	Handler string
	// Probe samples the runtime process; nil samples nothing.
	Probe func() (Sample, error)
	// CgroupParent, when set, puts each pod in a cgroup of its own below
	// it, as kubelet does (containerd's pod stats need one).
	CgroupParent string
	// StatsCalls is how many times ListPodSandboxStats is timed, one
	// call after another, while every pod runs.
	StatsCalls int
}

// Sample is what the runtime process holds at one moment; a value below
// zero was not measured.
type Sample struct {
	RSSBytes   int64
	FDs        int
	Goroutines int
}

// Result are the figures of one run.
type Result struct {
	Pods int
	// Ready are the pods' times from the common start to their container
	// running, sorted.
	Ready []time.Duration
	// Total is the time until every pod ran; Delete the time to stop and
	// remove them all.
	Total, Delete time.Duration
	// Before, Full and After sample the runtime before the pods, with
	// all of them running, and after their deletion.
	Before, Full, After Sample
	// Stats are the times of Options.StatsCalls ListPodSandboxStats
	// calls with every pod running, sorted.
	Stats []time.Duration
}

// Percentile is the p-th percentile (0-100) of the pods' times to Ready.
func (r Result) Percentile(p float64) time.Duration { return Percentile(r.Ready, p) }

// Percentile is the p-th percentile (0-100) of sorted durations, 0 for
// none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p/100)]
}

func (r Result) String() string {
	return fmt.Sprintf("%d pods: ready p50 %s p99 %s, all ready in %s, deleted in %s; runtime RSS %.1f MiB before, %.1f MiB at %d pods, %.1f MiB after; fds %d/%d/%d; goroutines %d/%d/%d",
		r.Pods, r.Percentile(50).Round(time.Millisecond), r.Percentile(99).Round(time.Millisecond),
		r.Total.Round(time.Millisecond), r.Delete.Round(time.Millisecond),
		mib(r.Before.RSSBytes), mib(r.Full.RSSBytes), r.Pods, mib(r.After.RSSBytes),
		r.Before.FDs, r.Full.FDs, r.After.FDs, r.Before.Goroutines, r.Full.Goroutines, r.After.Goroutines)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// Run creates opts.Pods pods at once, waits for all, then deletes them.
// A pod that fails fails the run, after every pod is deleted.
func Run(ctx context.Context, rt runtime.RuntimeServiceClient, img runtime.ImageServiceClient, opts Options) (Result, error) {
	if opts.Pods <= 0 || opts.Image == "" || opts.LogDir == "" {
		return Result{}, fmt.Errorf("density: pods, image and log dir are required")
	}
	if len(opts.Command) == 0 {
		opts.Command = []string{"sleep", "3600"}
	}
	if _, err := img.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: opts.Image}}); err != nil {
		return Result{}, fmt.Errorf("pulling %s: %w", opts.Image, err)
	}
	res := Result{Pods: opts.Pods}
	var err error
	if res.Before, err = probe(opts); err != nil {
		return res, err
	}
	ids := make([]string, opts.Pods)
	errs := make([]error, opts.Pods)
	ready := make([]time.Duration, opts.Pods)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range opts.Pods {
		wg.Go(func() {
			ids[i], errs[i] = runPod(ctx, rt, opts, i)
			ready[i] = time.Since(start)
		})
	}
	wg.Wait()
	res.Total = time.Since(start)
	slices.Sort(ready)
	res.Ready = ready
	full, perr := probe(opts)
	res.Full = full
	if perr == nil && !failed(errs) {
		res.Stats, perr = timeStats(ctx, rt, opts.StatsCalls)
	}

	delStart := time.Now()
	delErrs := make([]error, opts.Pods)
	for i, id := range ids {
		if id == "" {
			continue
		}
		wg.Go(func() { delErrs[i] = removePod(ctx, rt, id) })
	}
	wg.Wait()
	res.Delete = time.Since(delStart)
	for _, e := range append(errs, delErrs...) {
		if e != nil {
			return res, e
		}
	}
	if perr != nil {
		return res, perr
	}
	return res, nil
}

func failed(errs []error) bool {
	for _, e := range errs {
		if e != nil {
			return true
		}
	}
	return false
}

// timeStats times n ListPodSandboxStats calls, sorted.
func timeStats(ctx context.Context, rt runtime.RuntimeServiceClient, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := rt.ListPodSandboxStats(ctx, &runtime.ListPodSandboxStatsRequest{}); err != nil {
			return nil, fmt.Errorf("ListPodSandboxStats: %w", err)
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out, nil
}

// Settle samples the runtime after the run until its goroutines and fds
// come back to at most the given slack over before, or timeout passes,
// and records the last sample.
func (r *Result) Settle(opts Options, fdSlack, goroutineSlack int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s, err := probe(opts)
		if err != nil {
			return err
		}
		r.After = s
		if (s.FDs <= r.Before.FDs+fdSlack && s.Goroutines <= r.Before.Goroutines+goroutineSlack) || time.Now().After(deadline) {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func probe(opts Options) (Sample, error) {
	if opts.Probe == nil {
		return Sample{RSSBytes: -1, FDs: -1, Goroutines: -1}, nil
	}
	return opts.Probe()
}

func runPod(ctx context.Context, rt runtime.RuntimeServiceClient, opts Options, i int) (string, error) {
	name := fmt.Sprintf("density-%d", i)
	uid := fmt.Sprintf("density-uid-%d-%d", time.Now().UnixNano(), i)
	pod := &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "density", Uid: uid},
		Hostname:     name,
		LogDirectory: filepath.Join(opts.LogDir, "density_"+name+"_"+uid),
		Linux:        &runtime.LinuxPodSandboxConfig{},
	}
	if opts.CgroupParent != "" {
		pod.Linux.CgroupParent = path.Join(opts.CgroupParent, "pod"+uid)
	}
	r, err := rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: pod, RuntimeHandler: opts.Handler})
	if err != nil {
		return "", fmt.Errorf("pod %s: RunPodSandbox: %w", name, err)
	}
	id := r.GetPodSandboxId()
	c, err := rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: id, SandboxConfig: pod, Config: &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: "app"},
		Image:    &runtime.ImageSpec{Image: opts.Image},
		Command:  opts.Command,
		LogPath:  "app.log",
		Linux:    &runtime.LinuxContainerConfig{},
	}})
	if err != nil {
		return id, fmt.Errorf("pod %s: CreateContainer: %w", name, err)
	}
	if _, err := rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: c.GetContainerId()}); err != nil {
		return id, fmt.Errorf("pod %s: StartContainer: %w", name, err)
	}
	return id, nil
}

func removePod(ctx context.Context, rt runtime.RuntimeServiceClient, id string) error {
	if _, err := rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		return fmt.Errorf("StopPodSandbox %s: %w", id, err)
	}
	if _, err := rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		return fmt.Errorf("RemovePodSandbox %s: %w", id, err)
	}
	return nil
}
