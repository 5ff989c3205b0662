// Command wincri-logger writes one container's stdout and stderr to its
// CRI log file. A containerd shim starts it through the binary:// stdio
// URI that wincri puts into the task (see pkg/crilog/logger), so the log
// keeps flowing while wincri itself restarts.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog/logger"
)

func main() {
	if err := run(); err != nil {
		// The shim discards the logger's output; the exit status and,
		// for runc-v2 with binary-v2, the missing ready byte are what it
		// sees.
		fmt.Fprintln(os.Stderr, "wincri-logger:", err)
		os.Exit(1)
	}
}

func run() error {
	// SIGTERM is how runc-v2 stops the logger; it then drains.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := klog.Background().WithName("wincri-logger")
	ctx = klog.NewContext(ctx, log)

	opts, err := logger.ParseArgs(os.Args[1:])
	if err != nil {
		return err
	}
	if detached, err := detach(); err != nil || detached {
		return err
	}
	// The shim's working directory is the task's bundle; leave it so
	// the logger does not keep it busy (Windows cannot delete a
	// directory a process works in).
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return err
	}
	if err := os.Chdir(opts.StateDir); err != nil {
		return err
	}
	stdio, err := logger.OpenStdio(ctx)
	if err != nil {
		return err
	}
	return logger.Run(ctx, opts, stdio, logger.DefaultDrainTimeout)
}
