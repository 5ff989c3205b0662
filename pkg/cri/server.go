// Package cri translates the CRI gRPC API to wincri's domain packages.
// It is the only package that knows gRPC status codes and the CRI server
// types: each RPC validates its request, converts it, calls the domain
// and converts back; errors are mapped to codes once, in the interceptor.
package cri

import (
	goruntime "runtime"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/isolation"
)

// Network is the pod network as the runtime status needs it.
type Network interface {
	// Status is nil when pods can get a network, else the reason.
	Status() error
	// SetPodCIDR records the node's pod CIDR for the default network.
	SetPodCIDR(cidr string) error
}

// Options are the services a Server translates to.
type Options struct {
	Config  *config.Config
	Network Network
	Images  ImageService
	Runtime Runtime
	// Archive serves image import and export; nil answers them
	// Unimplemented.
	Archive ArchiveService
	// The optional capabilities: an RPC whose capability is nil answers
	// Unimplemented (Layers: ImageFsInfo reports images only).
	Events  EventRuntime
	Stats   StatsRuntime
	Streams StreamServer
	Layers  LayersRuntime
	// Registerer receives the RPC metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger is every request's logger, to which each RPC adds its name
	// and a request id. klog.Background() when unset.
	Logger klog.Logger
}

// Server implements the CRI RuntimeService and ImageService. RPCs that
// wincri does not implement answer Unimplemented through the embedded
// types.
type Server struct {
	runtime.UnimplementedRuntimeServiceServer
	runtime.UnimplementedImageServiceServer

	cfg     *config.Config
	network Network
	images  ImageService
	runtime Runtime
	archive ArchiveService
	events  EventRuntime
	stats   StatsRuntime
	streams StreamServer
	layers  LayersRuntime
	metrics *metrics
	ready   atomic.Bool
	// linux is true when pods run Linux containers (runc): the Linux-only
	// CRI features apply.
	linux bool
	// recursiveReadOnly is whether the kernel can make bind mounts
	// read-only recursively.
	recursiveReadOnly bool
	// cgroupDriver is the pods' cgroup driver, which kubelet must use
	// too: "systemd", "cgroupfs" or "" (Windows).
	cgroupDriver string
	logger       klog.Logger
}

// New returns a Server that answers Unavailable until SetReady.
func New(opts Options) (*Server, error) {
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = klog.Background()
	}
	return &Server{
		logger:  opts.Logger,
		cfg:     opts.Config,
		network: opts.Network,
		images:  opts.Images,
		runtime: opts.Runtime,
		archive: opts.Archive,
		events:  opts.Events,
		stats:   opts.Stats,
		streams: opts.Streams,
		layers:  opts.Layers,
		metrics: m,
		linux:   goruntime.GOOS == "linux",
		// Read once: it is a kernel version, not a state.
		recursiveReadOnly: goruntime.GOOS == "linux" && isolation.RecursiveReadOnlyMountsSupported(),
		cgroupDriver:      isolation.ProbeHost().CgroupDriver(),
	}, nil
}

// SetReady lets RPCs through once startup recovery has finished.
func (s *Server) SetReady() { s.ready.Store(true) }

// NewGRPCServer returns a gRPC server with the interceptor chain, both
// CRI services and wincri's image Archive service registered.
func (s *Server) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		// kubelet's client accepts 16 MiB messages; ListContainers on a
		// busy node needs more than gRPC's 4 MiB default.
		grpc.MaxRecvMsgSize(maxMsgSize),
		grpc.MaxSendMsgSize(maxMsgSize),
		grpc.ForceServerCodec(codec{}),
	)
	g := grpc.NewServer(opts...)
	runtime.RegisterRuntimeServiceServer(g, s)
	runtime.RegisterImageServiceServer(g, s)
	g.RegisterService(&archiveServiceDesc, s)
	return g
}

const maxMsgSize = 16 << 20
