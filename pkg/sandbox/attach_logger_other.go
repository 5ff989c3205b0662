//go:build !windows

package sandbox

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"syscall"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"
)

// startFIFOLogger starts the logging process the way runc-v2 starts it
// for a binary:// URI: the query as argument pairs, the output streams
// as descriptors 3 and 4 and a readiness pipe as 5. It runs in its own
// session so that it outlives wincri, and exits when the container's
// output ends.
func startFIFOLogger(ctx context.Context, loggerPath, logURI string, stdout, stderr *os.File) error {
	u, err := url.Parse(logURI)
	if err != nil {
		return fmt.Errorf("log URI: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	var args []string
	for k, vs := range u.Query() {
		if len(vs) > 0 {
			args = append(args, k, vs[0])
		}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	cmd := exec.Command(loggerPath, args...)
	cmd.ExtraFiles = []*os.File{stdout, stderr, readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	err = cmd.Start()
	_ = readyW.Close()
	if err != nil {
		return fmt.Errorf("starting the logging process: %w", err)
	}
	// Reap it when it ends while wincri runs; after a restart of wincri
	// init does.
	go func() { _ = cmd.Wait() }()

	if err := awaitLoggerReady(cmd.Process, readyR); err != nil {
		return err
	}
	klog.FromContext(ctx).V(2).Info("Started the logging process for a container with stdin", "pid", cmd.Process.Pid)
	return nil
}
