// Command wincri-logger writes one container's stdout and stderr to its
// CRI log file and serves them to attach clients, so the log keeps
// flowing while wincri itself restarts. On Linux runc-v2 starts it
// through the binary:// stdio URI that wincri puts into the task; on
// Windows wincri starts it, and it serves the named pipes runhcs dials
// for the task's stdin, stdout and stderr (see pkg/crilog/logger).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"github.com/wincri/wincri/pkg/crilog/logger"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wincri-logger:", err)
		os.Exit(1)
	}
}

func run() error {
	// SIGTERM is how runc-v2 stops the logger; it then drains.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts, err := logger.ParseArgs(os.Args[1:])
	if err != nil {
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
	// The shims discard the logger's stdout and stderr, so it also
	// writes about its own trouble to a file next to its socket.
	out := io.Writer(os.Stderr)
	diag, err := openDiagnostics(logger.DiagnosticsFile(opts.StateDir, opts.ID))
	if err == nil {
		defer diag.Close()
		out = io.MultiWriter(os.Stderr, diag)
	}
	log := textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(out))).WithName("wincri-logger")
	ctx = klog.NewContext(ctx, log)

	stdio, release, err := logger.OpenStdio(ctx, opts)
	if err == nil {
		err = logger.Run(ctx, opts, stdio, logger.DefaultDrainTimeout)
		err = errors.Join(err, release())
	}
	if err != nil {
		log.Error(err, "Logger failed")
	}
	return err
}
