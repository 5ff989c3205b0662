// Command density runs the density measurement (internal/density)
// against any CRI endpoint: pods created at once, each a sandbox and a
// small container, then deleted. It prints one line of figures and,
// with -json, the same as JSON for hack/bench.sh.
//
//	density -endpoint unix:///run/wincri/wincri.sock -image busybox -pods 100 -pid 1234
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/density"
)

func main() {
	var (
		endpoint   = flag.String("endpoint", "", "CRI endpoint, unix:///path")
		image      = flag.String("image", "", "container image (pulled first)")
		pods       = flag.Int("pods", 100, "pods created at once")
		pid        = flag.Int("pid", 0, "the runtime's process, for its RSS and open files")
		goroutines = flag.String("goroutines-url", "", "the runtime's /debug/pprof/goroutine?debug=1, for its goroutines")
		logDir     = flag.String("log-dir", os.TempDir(), "where the pods' log directories go")
		asJSON     = flag.Bool("json", false, "print the figures as JSON too")
		timeout    = flag.Duration("timeout", 15*time.Minute, "the whole run's limit")
		cgroup     = flag.String("cgroup-parent", "", "cgroupfs path under which each pod gets a cgroup of its own, as kubelet gives")
		statsCalls = flag.Int("stats-calls", 0, "times ListPodSandboxStats is timed with every pod running")
	)
	flag.Parse()
	if err := run(*endpoint, *image, *pods, *pid, *goroutines, *logDir, *asJSON, *timeout, *statsCalls, *cgroup); err != nil {
		fmt.Fprintln(os.Stderr, "density:", err)
		os.Exit(1)
	}
}

// figures is the JSON output.
type figures struct {
	Pods         int     `json:"pods"`
	ReadyP50Ms   float64 `json:"ready_p50_ms"`
	ReadyP99Ms   float64 `json:"ready_p99_ms"`
	TotalMs      float64 `json:"total_ms"`
	DeleteMs     float64 `json:"delete_ms"`
	RSSBeforeMiB float64 `json:"rss_before_mib"`
	RSSFullMiB   float64 `json:"rss_full_mib"`
	RSSAfterMiB  float64 `json:"rss_after_mib"`
	FDsBefore    int     `json:"fds_before"`
	FDsAfter     int     `json:"fds_after"`
	GoroutinesB  int     `json:"goroutines_before"`
	GoroutinesA  int     `json:"goroutines_after"`
	StatsP50Ms   float64 `json:"stats_p50_ms,omitempty"`
	StatsP95Ms   float64 `json:"stats_p95_ms,omitempty"`
}

func run(endpoint, image string, pods, pid int, goroutinesURL, logDir string, asJSON bool, timeout time.Duration, statsCalls int, cgroupParent string) error {
	if !strings.HasPrefix(endpoint, "unix://") {
		return fmt.Errorf("-endpoint must be unix:///path")
	}
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts := density.Options{Pods: pods, Image: image, LogDir: logDir, StatsCalls: statsCalls, CgroupParent: cgroupParent}
	if pid > 0 {
		opts.Probe = func() (density.Sample, error) { return sample(pid, goroutinesURL) }
	}
	res, err := density.Run(ctx, runtime.NewRuntimeServiceClient(conn), runtime.NewImageServiceClient(conn), opts)
	if err != nil {
		return err
	}
	if err := res.Settle(opts, 2, 5, 30*time.Second); err != nil {
		return err
	}
	fmt.Println(res)
	if !asJSON {
		return nil
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	return json.NewEncoder(os.Stdout).Encode(figures{
		Pods: res.Pods, ReadyP50Ms: ms(res.Percentile(50)), ReadyP99Ms: ms(res.Percentile(99)),
		TotalMs: ms(res.Total), DeleteMs: ms(res.Delete),
		RSSBeforeMiB: mib(res.Before.RSSBytes), RSSFullMiB: mib(res.Full.RSSBytes), RSSAfterMiB: mib(res.After.RSSBytes),
		FDsBefore: res.Before.FDs, FDsAfter: res.After.FDs,
		GoroutinesB: res.Before.Goroutines, GoroutinesA: res.After.Goroutines,
		StatsP50Ms: ms(density.Percentile(res.Stats, 50)), StatsP95Ms: ms(density.Percentile(res.Stats, 95)),
	})
}

func sample(pid int, goroutinesURL string) (density.Sample, error) {
	rss, err := density.ProcessRSS(pid)
	if err != nil {
		return density.Sample{}, err
	}
	fds, err := density.ProcessFDs(pid)
	if err != nil {
		return density.Sample{}, err
	}
	s := density.Sample{RSSBytes: rss, FDs: fds, Goroutines: -1}
	if goroutinesURL == "" {
		return s, nil
	}
	resp, err := http.Get(goroutinesURL)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return s, err
	}
	s.Goroutines, err = density.GoroutineCount(string(b))
	return s, err
}
