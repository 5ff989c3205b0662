package sandbox

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/logkeys"
)

// Attach connects the caller's streams to a running container's own
// stdio, as kubectl attach does: its output from now on (earlier output
// is in the log), and its stdin when the container was created with
// stdin. It returns when the container's output ends, when the
// client's stdin ends (the client detached), or when ctx ends. A
// container created with stdin_once has its stdin closed when the first
// attach session's stdin ends. Output reaches attach clients through
// the container's logging process, which every container with a log or
// with stdin has.
func (m *Manager) Attach(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, resize <-chan TerminalSize) error {
	c, rec, s, release, err := m.runningTask(id)
	if err != nil {
		return err
	}
	defer release()
	// The logging process serves the output live; a container has one
	// when it has a log or stdin.
	hasLogger := rec.LogPath != "" || c.cfg.GetStdin()
	if !hasLogger {
		return fmt.Errorf("container %s has neither a log nor stdin, so no process serves its live output: %w", rec.ID, errdefs.ErrFailedPrecondition)
	}
	log := klog.FromContext(ctx).WithValues(logkeys.ContainerID, rec.ID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var in io.WriteCloser
	if stdin != nil && c.cfg.GetStdin() {
		if in, err = m.dialStdin(ctx, rec.ID); err != nil {
			return fmt.Errorf("attach to container %s: %w", rec.ID, err)
		}
		defer in.Close()
	} else if stdin != nil {
		log.V(2).Info("Container was not created with stdin; ignoring the client's input")
		stdin = nil
	}

	ended := make(chan error, 2)
	if hasLogger {
		// Connected before any input is passed on, so that the output
		// the input causes reaches this client.
		out, err := logger.OpenAttach(ctx, m.dirs.loggerState(), rec.ID)
		if err != nil {
			return err
		}
		defer out.Close()
		if c.cfg.GetTty() {
			stderr = nil
		}
		go func() {
			err := out.Copy(ctx, stdout, stderr)
			if ctx.Err() != nil {
				err = nil
			}
			ended <- err
		}()
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(in, stdin)
			_ = in.Close()
			if c.cfg.GetStdinOnce() {
				cctx, cancel := m.cleanupContext(ctx)
				defer cancel()
				if err := s.CloseIO(cctx, rec.ID, ""); err != nil && !gone(err) {
					log.Error(err, "Closing the stdin of a stdin_once container")
				}
			}
			ended <- nil
		}()
	}
	if c.cfg.GetTty() {
		go forwardResizes(ctx, s, rec.ID, "", resize, ctx.Done())
	}
	select {
	case err := <-ended:
		return err
	case <-ctx.Done():
		return nil
	}
}
