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
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
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

// streamIdleTimeout ends a session idle this long, as
// k8s.io/cri-streaming's default configuration does.
const streamIdleTimeout = 4 * time.Hour

// Server is the streaming server: a listener, the single-use session
// URLs it handed out, and the library's session handlers over the
// runtime.
//
// It routes the three session paths itself rather than through
// k8s.io/cri-streaming's streaming.NewServer, whose go-restful router
// brought go-restful and encoding/xml into wincri for three routes:
// about 0.3 MB of code the daemon kept resident.
type Server struct {
	http    *http.Server
	l       net.Listener
	tokens  *tokens
	adapter adapter
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
	logger := klog.FromContext(ctx).WithName("streaming")
	if ip := net.ParseIP(cfg.Address); ip == nil || !ip.IsLoopback() {
		// kubelet proxies every session from its own node; a
		// non-loopback address exposes unauthenticated exec.
		logger.Info("Streaming server listens beyond loopback without authentication", "address", l.Addr().String())
	}
	s := &Server{l: l, tokens: newTokens(), adapter: adapter{rt: rt, logger: logger}}
	// The routes the library serves: GET and POST of each session kind.
	mux := http.NewServeMux()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		mux.HandleFunc(method+" /exec/{token}", s.serveExec)
		mux.HandleFunc(method+" /attach/{token}", s.serveAttach)
		mux.HandleFunc(method+" /portforward/{token}", s.servePortForward)
	}
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	return s, nil
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
	if err := validateStreams(req.GetContainerId(), req.GetTty(), req.GetStdin(), req.GetStdout(), req.GetStderr()); err != nil {
		return nil, err
	}
	u, err := s.url("exec", req)
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ExecResponse{Url: u}, nil
}

// GetAttach returns the single-use URL of an attach session.
func (s *Server) GetAttach(req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if err := validateStreams(req.GetContainerId(), req.GetTty(), req.GetStdin(), req.GetStdout(), req.GetStderr()); err != nil {
		return nil, err
	}
	u, err := s.url("attach", req)
	if err != nil {
		return nil, err
	}
	return &runtimeapi.AttachResponse{Url: u}, nil
}

// GetPortForward returns the single-use URL of a port-forward session.
func (s *Server) GetPortForward(req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, fmt.Errorf("missing required pod_sandbox_id: %w", errdefs.ErrInvalidArgument)
	}
	u, err := s.url("portforward", req)
	if err != nil {
		return nil, err
	}
	return &runtimeapi.PortForwardResponse{Url: u}, nil
}

// validateStreams checks an exec or attach request as the library does.
func validateStreams(containerID string, tty, stdin, stdout, stderr bool) error {
	switch {
	case containerID == "":
		return fmt.Errorf("missing required container_id: %w", errdefs.ErrInvalidArgument)
	case tty && stderr:
		// A terminal multiplexes stderr into stdout.
		return fmt.Errorf("tty and stderr cannot both be true: %w", errdefs.ErrInvalidArgument)
	case !stdin && !stdout && !stderr:
		return fmt.Errorf("one of stdin, stdout, or stderr must be set: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// url records req under a new token and returns the session's URL.
func (s *Server) url(kind string, req any) (string, error) {
	token, err := s.tokens.insert(req)
	if err != nil {
		return "", err
	}
	return "http://" + s.Addr() + "/" + kind + "/" + token, nil
}

// pendingRequest consumes the token of r's path and returns its request,
// or answers 404 when the token is unknown, used, expired or of another
// session kind.
func pendingRequest[T any](s *Server, w http.ResponseWriter, r *http.Request) (T, bool) {
	req, ok := s.tokens.consume(r.PathValue("token"))
	t, isT := req.(T)
	if !ok || !isT {
		http.NotFound(w, r)
	}
	return t, ok && isT
}

func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	req, ok := pendingRequest[*runtimeapi.ExecRequest](s, w, r)
	if !ok {
		return
	}
	opts := &remotecommand.Options{Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr, TTY: req.Tty}
	remotecommand.ServeExec(w, r, s.adapter, "", "", req.ContainerId, req.Cmd, opts,
		streamIdleTimeout, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) {
	req, ok := pendingRequest[*runtimeapi.AttachRequest](s, w, r)
	if !ok {
		return
	}
	opts := &remotecommand.Options{Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr, TTY: req.Tty}
	remotecommand.ServeAttach(w, r, s.adapter, "", "", req.ContainerId, opts,
		streamIdleTimeout, remotecommand.DefaultStreamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	req, ok := pendingRequest[*runtimeapi.PortForwardRequest](s, w, r)
	if !ok {
		return
	}
	opts, err := portforward.BuildV4Options(req.Port)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	portforward.ServePortForward(w, r, s.adapter, req.PodSandboxId, "", opts,
		streamIdleTimeout, remotecommand.DefaultStreamCreationTimeout, portforward.SupportedProtocols)
}

// adapter fits the runtime to the library's session interfaces; the
// library passes the pod's id as the port-forward's pod name.
type adapter struct {
	rt     Runtime
	logger klog.Logger
}

var (
	_ remotecommand.Executor    = adapter{}
	_ remotecommand.Attacher    = adapter{}
	_ portforward.PortForwarder = adapter{}
)

func (a adapter) ExecInContainer(ctx context.Context, _, _, id string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
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

func (a adapter) AttachContainer(ctx context.Context, _, _, id string, in io.Reader, out, errOut io.WriteCloser, _ bool, resize <-chan remotecommand.TerminalSize) error {
	logger := a.logger.WithValues(logkeys.Session, "attach", logkeys.ContainerID, id)
	ctx = klog.NewContext(ctx, logger)
	logger.V(2).Info("Attach session")
	if err := a.rt.Attach(ctx, id, in, out, errOut, sizes(ctx, resize)); err != nil {
		logSessionEnd(logger, err, "Attach")
		return err
	}
	return nil
}

func (a adapter) PortForward(ctx context.Context, podID, _ string, port int32, stream io.ReadWriteCloser) error {
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
