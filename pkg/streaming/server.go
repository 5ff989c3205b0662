// Package streaming serves kubectl exec, attach and port-forward
// sessions over the CRI streaming protocol (SPDY and websocket, as
// k8s.io/cri-streaming offers them). The CRI Exec, Attach and
// PortForward RPCs only hand out a single-use URL of this server; the
// session itself runs here, on the runtime's streams.
package streaming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	criStreaming "k8s.io/cri-streaming/pkg/streaming"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/klog/v2"
	utilexec "k8s.io/utils/exec"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/sandbox"
)

// Runtime runs the sessions; *sandbox.Manager implements it.
type Runtime interface {
	Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan sandbox.TerminalSize) (int32, error)
	Attach(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, resize <-chan sandbox.TerminalSize) error
	PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error
}

var _ Runtime = (*sandbox.Manager)(nil)

// readHeaderTimeout bounds a client's request headers; the sessions
// themselves are bounded by the library's idle timeout.
const readHeaderTimeout = 30 * time.Second

// Server is the streaming server: a listener, the library's URL cache
// and handlers, and the adapter to the runtime.
type Server struct {
	lib  criStreaming.Server
	http *http.Server
	l    net.Listener
}

// New listens on cfg's address and port (port 0: a free port) and
// returns a server whose URLs name the address actually bound; Serve
// serves it. ctx carries the logger sessions log with.
func New(ctx context.Context, cfg config.Streaming, rt Runtime) (*Server, error) {
	if rt == nil {
		return nil, fmt.Errorf("streaming server: no runtime: %w", errdefs.ErrInvalidArgument)
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("streaming server: listen on %s: %v: %w", addr, err, errdefs.ErrUnavailable)
	}
	libCfg := criStreaming.DefaultConfig
	libCfg.Addr = l.Addr().String()
	libCfg.BaseURL = &url.URL{Scheme: "http", Host: l.Addr().String()}
	logger := klog.FromContext(ctx).WithName("streaming")
	lib, err := criStreaming.NewServer(libCfg, adapter{rt: rt, logger: logger})
	if err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("streaming server: %w", err)
	}
	if ip := net.ParseIP(cfg.Address); ip == nil || !ip.IsLoopback() {
		// kubelet proxies every session from its own node; a
		// non-loopback address exposes unauthenticated exec.
		logger.Info("Streaming server listens beyond loopback without authentication", "address", l.Addr().String())
	}
	return &Server{
		lib:  lib,
		l:    l,
		http: &http.Server{Handler: lib, ReadHeaderTimeout: readHeaderTimeout},
	}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.l.Addr().String() }

// Serve serves sessions until Close; it returns nil after Close.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops serving and ends open sessions.
func (s *Server) Close() error { return s.http.Close() }

// GetExec returns the single-use URL of an exec session.
func (s *Server) GetExec(req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	return s.lib.GetExec(req)
}

// GetAttach returns the single-use URL of an attach session.
func (s *Server) GetAttach(req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	return s.lib.GetAttach(req)
}

// GetPortForward returns the single-use URL of a port-forward session.
func (s *Server) GetPortForward(req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	return s.lib.GetPortForward(req)
}

// adapter fits the runtime to the library's interface.
type adapter struct {
	rt     Runtime
	logger klog.Logger
}

func (a adapter) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	logger := a.logger.WithValues(logkeys.Session, "exec", logkeys.ContainerID, id)
	ctx = klog.NewContext(ctx, logger)
	logger.V(2).Info("Exec session", "tty", tty)
	code, err := a.rt.Exec(ctx, id, cmd, in, out, errOut, tty, sizes(ctx, resize))
	if err != nil {
		logSessionEnd(logger, err, "Exec")
		return err
	}
	if code != 0 {
		// The library reports an ExitError's code to the client, which
		// makes kubectl exit with it.
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: int(code)}
	}
	return nil
}

func (a adapter) Attach(ctx context.Context, id string, in io.Reader, out, errOut io.WriteCloser, _ bool, resize <-chan remotecommand.TerminalSize) error {
	logger := a.logger.WithValues(logkeys.Session, "attach", logkeys.ContainerID, id)
	ctx = klog.NewContext(ctx, logger)
	logger.V(2).Info("Attach session")
	if err := a.rt.Attach(ctx, id, in, out, errOut, sizes(ctx, resize)); err != nil {
		logSessionEnd(logger, err, "Attach")
		return err
	}
	return nil
}

func (a adapter) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	logger := a.logger.WithValues(logkeys.Session, "port-forward", logkeys.PodSandboxID, podID, logkeys.Port, port)
	ctx = klog.NewContext(ctx, logger)
	logger.V(2).Info("Port-forward session")
	if err := a.rt.PortForward(ctx, podID, port, stream); err != nil {
		logSessionEnd(logger, err, "Port-forward")
		return err
	}
	return nil
}

// sizes converts the library's resize events until its channel closes.
func sizes(ctx context.Context, in <-chan remotecommand.TerminalSize) <-chan sandbox.TerminalSize {
	if in == nil {
		return nil
	}
	out := make(chan sandbox.TerminalSize)
	go func() {
		defer close(out)
		for sz := range in {
			select {
			case out <- sandbox.TerminalSize{Width: sz.Width, Height: sz.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
