package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/containerd/errdefs"
)

// PortForward connects stream to a TCP port of a ready pod, as kubectl
// port-forward does: on Linux to localhost inside the pod's network
// namespace, on Windows to the pod's IP (localhost for HostProcess and
// host-network pods). It returns when the pod's side of the connection
// ends or ctx ends; the caller closes stream.
func (m *Manager) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("port %d is out of range 1-65535: %w", port, errdefs.ErrInvalidArgument)
	}
	p, err := m.getPod(podID)
	if err != nil {
		return err
	}
	rec := p.snapshot()
	if rec.State != PodReady {
		return fmt.Errorf("pod sandbox %s is %s, not ready: %w", rec.ID, rec.State, errdefs.ErrFailedPrecondition)
	}
	conn, err := dialPod(ctx, rec, p.cfg, port)
	if err != nil {
		return fmt.Errorf("port forward to pod sandbox %s port %d: %v: %w", rec.ID, port, err, errdefs.ErrUnavailable)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	fromPod := make(chan error, 1)
	go func() {
		_, err := io.Copy(stream, conn)
		fromPod <- err
	}()
	toPod := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, stream)
		// The client finished sending: tell the pod, and keep reading
		// its answer.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		toPod <- err
	}()
	for {
		select {
		case err := <-fromPod:
			if err != nil && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				return fmt.Errorf("port forward to pod sandbox %s port %d: %w", rec.ID, port, err)
			}
			return nil
		case err := <-toPod:
			toPod = nil
			if err != nil && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				return fmt.Errorf("port forward to pod sandbox %s port %d: %w", rec.ID, port, err)
			}
		}
	}
}
