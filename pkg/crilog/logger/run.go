package logger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog"
	"github.com/wincri/wincri/pkg/logkeys"
)

// DefaultDrainTimeout is how long the logger keeps reading after it was
// asked to stop; both shims wait ten seconds or more before they kill it.
const DefaultDrainTimeout = 5 * time.Second

// closeGrace bounds the wait for the copies after the streams were
// closed on a drain timeout.
const closeGrace = time.Second

// Stdio is a container's output as the shim hands it to the logger.
type Stdio struct {
	Stdout, Stderr io.ReadCloser
	// Ready tells the shim that the logger takes output now.
	Ready func() error
}

// Run is the logging process: it opens the log, serves reopen requests,
// tells the shim it is ready, and copies both streams into the log until
// both end. When ctx ends (the shim asked it to stop) it keeps reading
// for at most drainTimeout (0: DefaultDrainTimeout), since what is still
// in the pipes belongs to the log; only a process that outlived the
// container and still holds a pipe keeps it that long.
func Run(ctx context.Context, o Options, stdio Stdio, drainTimeout time.Duration) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if stdio.Stdout == nil || stdio.Stderr == nil || stdio.Ready == nil {
		return fmt.Errorf("logger: stdout, stderr and ready are all required: %w", errdefs.ErrInvalidArgument)
	}
	if drainTimeout <= 0 {
		drainTimeout = DefaultDrainTimeout
	}
	logger := klog.FromContext(ctx).WithValues(logkeys.ContainerID, o.ID)
	ctx = klog.NewContext(ctx, logger)

	var out crilog.RecordWriter = discard{}
	var file *crilog.File
	if !o.NoLog() {
		var err error
		if file, err = crilog.OpenFile(ctx, o.LogDirectory, o.LogPath); err != nil {
			return err
		}
		defer file.Close()
		out = file
	}
	st := &state{file: file}

	addr, err := ControlAddress(o.StateDir, o.ID)
	if err != nil {
		return err
	}
	l, err := listenControl(addr)
	if err != nil {
		return err
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		serveControl(ctx, l, st)
	}()
	defer func() {
		_ = l.Close()
		<-served
	}()

	hub := startAttach(ctx, o)
	defer hub.close()

	if err := stdio.Ready(); err != nil {
		return fmt.Errorf("logger: tell the shim it is ready: %w", err)
	}
	if file != nil {
		logger.V(2).Info("Logging container output", "path", file.Path())
	}

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		var wg sync.WaitGroup
		for stream, r := range map[crilog.Stream]io.Reader{crilog.Stdout: stdio.Stdout, crilog.Stderr: stdio.Stderr} {
			wg.Go(func() {
				// Attach clients see the output as it is read.
				err := crilog.Copy(out, stream, io.TeeReader(r, hub.writer(stream)), o.MaxLineSize)
				if err != nil && !errors.Is(err, os.ErrClosed) && !errors.Is(err, net.ErrClosed) {
					logger.Error(err, "Reading container output failed", "stream", stream)
				}
			})
		}
		wg.Wait()
	}()

	select {
	case <-copied:
	case <-ctx.Done():
		logger.V(2).Info("Stop requested, reading what is left", "timeout", drainTimeout)
		select {
		case <-copied:
		case <-time.After(drainTimeout):
			logger.Info("Container output did not end in time, closing it", "timeout", drainTimeout)
			_ = stdio.Stdout.Close()
			_ = stdio.Stderr.Close()
			select {
			case <-copied:
			case <-time.After(closeGrace):
			}
		}
	}
	st.end()
	if file == nil {
		return nil
	}
	return file.Close()
}

// discard is the log of a container that has none.
type discard struct{}

func (discard) WriteRecord(crilog.Stream, bool, []byte) error { return nil }

// state is what the control server sees of a running logger.
type state struct {
	file *crilog.File

	mu    sync.Mutex
	ended bool
}

func (s *state) reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return fmt.Errorf("container output has ended: %w", errdefs.ErrFailedPrecondition)
	}
	if s.file == nil {
		return fmt.Errorf("the container has no log file: %w", errdefs.ErrFailedPrecondition)
	}
	return s.file.Reopen()
}

func (s *state) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
}
