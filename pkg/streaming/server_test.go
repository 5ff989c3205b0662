package streaming_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/streaming"
)

// fakeRuntime echoes: exec copies stdin to stdout and exits with the
// code its command names; attach writes a greeting; port-forward
// answers one line.
type fakeRuntime struct {
	mu      sync.Mutex
	resizes []sandbox.TerminalSize
}

func (f *fakeRuntime) Exec(_ context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan sandbox.TerminalSize) (int32, error) {
	if id == "missing" {
		return 0, fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	if tty {
		sz := <-resize
		f.mu.Lock()
		f.resizes = append(f.resizes, sz)
		f.mu.Unlock()
	}
	if stdin != nil {
		_, _ = io.Copy(stdout, stdin)
	}
	if stderr != nil {
		_, _ = io.WriteString(stderr, "err:"+cmd[0])
	}
	var code int32
	_, _ = fmt.Sscan(cmd[len(cmd)-1], &code)
	return code, nil
}

func (f *fakeRuntime) Attach(_ context.Context, id string, _ io.Reader, stdout, _ io.Writer, _ <-chan sandbox.TerminalSize) error {
	_, err := io.WriteString(stdout, "attached to "+id)
	return err
}

func (f *fakeRuntime) PortForward(_ context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	_, err := fmt.Fprintf(stream, "pod %s port %d\n", podID, port)
	return err
}

func newServer(t *testing.T, rt streaming.Runtime) *streaming.Server {
	t.Helper()
	srv, err := streaming.New(t.Context(), config.Streaming{Address: "127.0.0.1", Port: 0}, rt)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.NoError(t, <-done)
	})
	return srv
}

func TestServerURLs(t *testing.T) {
	srv := newServer(t, &fakeRuntime{})
	resp, err := srv.GetExec(&runtime.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}, Stdout: true})
	require.NoError(t, err)
	u, err := url.Parse(resp.Url)
	require.NoError(t, err)
	assert.Equal(t, srv.Addr(), u.Host, "the URL names the port actually bound")
	host, _, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)

	other, err := srv.GetExec(&runtime.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}, Stdout: true})
	require.NoError(t, err)
	assert.NotEqual(t, resp.Url, other.Url, "single-use tokens")

	_, err = srv.GetExec(&runtime.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}, Tty: true, Stderr: true})
	assert.Error(t, err, "a terminal has no separate stderr")
}

func TestServerExecSession(t *testing.T) {
	rt := &fakeRuntime{}
	srv := newServer(t, rt)
	tests := []struct {
		name     string
		cmd      []string
		tty      bool
		wantOut  string
		wantCode int
	}{
		{"success", []string{"cat", "0"}, false, "ping", 0},
		{"exit code", []string{"cat", "42"}, false, "ping", 42},
		{"terminal", []string{"cat", "0"}, true, "ping", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.GetExec(&runtime.ExecRequest{ContainerId: "c1", Cmd: tt.cmd, Stdin: true, Stdout: true, Stderr: !tt.tty, Tty: tt.tty})
			require.NoError(t, err)
			s := openSession(t, resp.Url, true, true, !tt.tty, tt.tty)
			if tt.tty {
				s.sendResize(t, 80, 24)
			}
			_, err = io.WriteString(s.stdin, "ping")
			require.NoError(t, err)
			require.NoError(t, s.stdin.Close())
			stderr := make(chan string, 1)
			if s.stderr != nil {
				go func() {
					b, _ := io.ReadAll(s.stderr)
					stderr <- string(b)
				}()
			} else {
				stderr <- "err:cat"
			}
			out, err := io.ReadAll(s.stdout)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOut, string(out))
			assert.Equal(t, "err:cat", <-stderr)
			code, msg := s.wait(t)
			assert.Equal(t, tt.wantCode, code, msg)
		})
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	assert.Equal(t, []sandbox.TerminalSize{{Width: 80, Height: 24}}, rt.resizes)
}

func TestServerSessionErrors(t *testing.T) {
	srv := newServer(t, &fakeRuntime{})
	resp, err := srv.GetExec(&runtime.ExecRequest{ContainerId: "missing", Cmd: []string{"sh"}, Stdout: true})
	require.NoError(t, err)
	s := openSession(t, resp.Url, false, true, false, false)
	code, msg := s.wait(t)
	assert.Equal(t, -1, code)
	assert.Contains(t, msg, "not found")
}

func TestServerAttachAndPortForward(t *testing.T) {
	srv := newServer(t, &fakeRuntime{})
	resp, err := srv.GetAttach(&runtime.AttachRequest{ContainerId: "c7", Stdout: true})
	require.NoError(t, err)
	s := openSession(t, resp.Url, false, true, false, false)
	out, err := io.ReadAll(s.stdout)
	require.NoError(t, err)
	assert.Equal(t, "attached to c7", string(out))
	code, _ := s.wait(t)
	assert.Zero(t, code)

	pf, err := srv.GetPortForward(&runtime.PortForwardRequest{PodSandboxId: "p1", Port: []int32{8080}})
	require.NoError(t, err)
	data, _ := forward(t, pf.Url, 8080)
	b, err := io.ReadAll(data)
	require.NoError(t, err)
	assert.Equal(t, "pod p1 port 8080\n", string(b))
}

func TestNewRejectsBadInput(t *testing.T) {
	_, err := streaming.New(t.Context(), config.Streaming{Address: "127.0.0.1"}, nil)
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = streaming.New(t.Context(), config.Streaming{Address: "127.0.0.1", Port: port}, &fakeRuntime{})
	assert.True(t, errors.Is(err, errdefs.ErrUnavailable), "port in use: %v", err)
}

func TestServerRefusesUnknownTokens(t *testing.T) {
	srv := newServer(t, &fakeRuntime{})
	resp, err := srv.GetAttach(&runtime.AttachRequest{ContainerId: "c1", Stdout: true})
	require.NoError(t, err)
	u, err := url.Parse(resp.Url)
	require.NoError(t, err)
	token := path.Base(u.Path)
	for _, tt := range []struct{ name, path string }{
		{"another session kind", "/exec/" + token},
		{"a used token", "/attach/" + token},
		{"an unknown token", "/portforward/nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.Get("http://" + srv.Addr() + tt.path)
			require.NoError(t, err)
			r.Body.Close()
			assert.Equal(t, http.StatusNotFound, r.StatusCode)
		})
	}
}

func TestServerValidatesRequests(t *testing.T) {
	srv := newServer(t, &fakeRuntime{})
	_, err := srv.GetExec(&runtime.ExecRequest{Cmd: []string{"sh"}, Stdout: true})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, "no container")
	_, err = srv.GetAttach(&runtime.AttachRequest{ContainerId: "c1"})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, "no stream")
	_, err = srv.GetExec(&runtime.ExecRequest{ContainerId: "c1", Cmd: []string{"sh"}, Tty: true, Stderr: true})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, "terminal with stderr")
	_, err = srv.GetPortForward(&runtime.PortForwardRequest{Port: []int32{80}})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, "no pod")
}
