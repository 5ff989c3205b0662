package cri

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/endpoint"
)

// fakeNetwork is a hand-written Network for tests.
type fakeNetwork struct {
	status   error
	panics   bool
	podCIDR  string
	setError error
}

func (f *fakeNetwork) Status() error {
	if f.panics {
		panic("network status exploded")
	}
	return f.status
}

func (f *fakeNetwork) SetPodCIDR(cidr string) error {
	if f.setError != nil {
		return f.setError
	}
	f.podCIDR = cidr
	return nil
}

type testEnv struct {
	// log fails the test for an error the server logs unexpectedly.
	log     *testlog.Log
	srv     *Server
	reg     *prometheus.Registry
	runtime runtime.RuntimeServiceClient
	images  runtime.ImageServiceClient
	// endpoint is where the server listens.
	endpoint endpoint.Endpoint
}

// newTestEnv serves a Server over a real gRPC unix socket.
func newTestEnv(t *testing.T, opts Options, ready bool) *testEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.Network == nil {
		opts.Network = &fakeNetwork{}
	}
	opts.Registerer = reg
	log := testlog.New(t)
	if opts.Logger.GetSink() == nil {
		opts.Logger = log.Logger()
	}
	srv, err := New(opts)
	require.NoError(t, err)
	if ready {
		srv.SetReady()
	}
	sock := filepath.Join(t.TempDir(), "cri.sock")
	lis, err := net.Listen("unix", sock)
	require.NoError(t, err)
	g := srv.NewGRPCServer()
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &testEnv{
		log:      log,
		srv:      srv,
		reg:      reg,
		runtime:  runtime.NewRuntimeServiceClient(conn),
		images:   runtime.NewImageServiceClient(conn),
		endpoint: endpoint.Endpoint{Scheme: endpoint.Unix, Path: sock},
	}
}

func (e *testEnv) count(method, code string) float64 {
	return testutil.ToFloat64(e.srv.metrics.requests.WithLabelValues(method, code))
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	return t.Context()
}

var errBoom = errors.New("boom")
