// Command pullbench measures big image pulls for hack/bench.sh, through a
// runtime's CRI PullImage or, as the physical floor, straight from the
// registry to disk. Every image must be absent from the runtime (cold);
// the bench gives each case images of its own. It prints one JSON line.
//
//	pullbench cri -endpoint unix:///run/w.sock -registry 127.0.0.1:5000 \
//	    -single IMG -same IMG -concurrent A,B,C,D -sequential E,F,G,H
//	pullbench floor -registry 127.0.0.1:5000 -image IMG -dir /var/tmp/floor
//
// The registry is hack/testimages', which counts the blob bytes it serves.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pullbench cri|floor [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "cri":
		err = criCommand(os.Args[2:])
	case "floor":
		err = floorCommand(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want cri or floor", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pullbench:", err)
		os.Exit(1)
	}
}

// figure is one case's result: wall time and blob bytes the registry
// served during it.
type figure struct {
	Ms    float64 `json:"ms"`
	Bytes int64   `json:"bytes"`
}

func criCommand(args []string) error {
	fs := flag.NewFlagSet("cri", flag.ContinueOnError)
	var (
		endpoint   = fs.String("endpoint", "", "CRI endpoint, unix:///path")
		registry   = fs.String("registry", "", "the test registry's host:port, for the bytes it served")
		single     = fs.String("single", "", "image pulled alone")
		same       = fs.String("same", "", "image pulled 4 times at once")
		concurrent = fs.String("concurrent", "", "comma-separated images pulled at once")
		sequential = fs.String("sequential", "", "comma-separated images, of the sizes of -concurrent's, pulled one after another")
		timeout    = fs.Duration("timeout", 30*time.Minute, "the whole run's limit")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*endpoint, "unix://") || *registry == "" || *single == "" || *same == "" || *concurrent == "" || *sequential == "" {
		return errors.New("cri: -endpoint unix:///path, -registry, -single, -same, -concurrent and -sequential are required")
	}
	conn, err := grpc.NewClient(*endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	img := runtime.NewImageServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	pull := func(ref string) error {
		_, err := img.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
		if err != nil {
			return fmt.Errorf("pulling %s: %w", ref, err)
		}
		return nil
	}
	out := map[string]figure{}
	cases := []struct {
		name string
		refs []string
		// parallel pulls refs at once, else one after another.
		parallel bool
	}{
		{"single", []string{*single}, false},
		{"same4", []string{*same, *same, *same, *same}, true},
		{"concurrent", strings.Split(*concurrent, ","), true},
		{"sequential", strings.Split(*sequential, ","), false},
	}
	for _, c := range cases {
		f, err := measure(*registry, func() error { return pullAll(c.refs, c.parallel, pull) })
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		out[c.name] = f
		fmt.Fprintf(os.Stderr, "pullbench: %s: %.0f ms, %d bytes fetched\n", c.name, f.Ms, f.Bytes)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func pullAll(refs []string, parallel bool, pull func(string) error) error {
	if !parallel {
		for _, r := range refs {
			if err := pull(r); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Go(func() { errs[i] = pull(r) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// measure times fn and counts the blob bytes the registry served meanwhile.
func measure(registry string, fn func() error) (figure, error) {
	before, err := served(registry)
	if err != nil {
		return figure{}, err
	}
	start := time.Now()
	if err := fn(); err != nil {
		return figure{}, err
	}
	elapsed := time.Since(start)
	after, err := served(registry)
	if err != nil {
		return figure{}, err
	}
	return figure{Ms: float64(elapsed.Microseconds()) / 1000, Bytes: after - before}, nil
}

// served asks the test registry how many blob bytes it has served.
func served(registry string) (int64, error) {
	resp, err := http.Get("http://" + registry + "/wincri-bench/served")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s does not count served bytes (%s): is it hack/testimages?", registry, resp.Status)
	}
	var v struct {
		BlobBytes int64 `json:"blob_bytes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, err
	}
	return v.BlobBytes, nil
}
