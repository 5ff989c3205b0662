package cri

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
)

// Every RPC passes one chain: request id and contextual logger, the
// readiness gate, panic recovery, error mapping, metrics and logging.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	method := path.Base(info.FullMethod)
	ctx, logger := s.withRequestLogger(ctx, method)
	start := time.Now()
	gated := false
	defer func() {
		if r := recover(); r != nil {
			logger.Error(fmt.Errorf("panic: %v", r), "RPC panicked", "stack", string(debug.Stack()))
			resp, err = nil, status.Errorf(codes.Internal, "%s: internal error: %v", method, r)
		}
		s.finish(logger, method, start, err, gated)
	}()
	if err := s.gate(method); err != nil {
		gated = true
		return nil, err
	}
	if fields := invalidUTF8(req); fields != "" {
		return nil, toStatus(invalid("%s: not valid UTF-8", fields))
	}
	resp, err = handler(ctx, req)
	return resp, toStatus(err)
}

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	method := path.Base(info.FullMethod)
	ctx, logger := s.withRequestLogger(ss.Context(), method)
	start := time.Now()
	gated := false
	defer func() {
		if r := recover(); r != nil {
			logger.Error(fmt.Errorf("panic: %v", r), "RPC panicked", "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "%s: internal error: %v", method, r)
		}
		s.finish(logger, method, start, err, gated)
	}()
	if err := s.gate(method); err != nil {
		gated = true
		return err
	}
	return toStatus(handler(srv, &contextStream{ServerStream: ss, ctx: ctx}))
}

// gate answers Unavailable until startup recovery has finished. Version
// always answers, so that tools can tell a starting wincri from none.
func (s *Server) gate(method string) error {
	if s.ready.Load() || method == "Version" {
		return nil
	}
	return toStatus(fmt.Errorf("wincri is recovering its state after a start, retry shortly: %w", errdefs.ErrUnavailable))
}

// finish records an RPC's outcome. A call the readiness gate turned away
// (gated) is no fault: wincri logged its start and recovery already, and
// kubelet polls throughout.
func (s *Server) finish(logger klog.Logger, method string, start time.Time, err error, gated bool) {
	code := status.Code(err)
	s.metrics.observe(method, code, time.Since(start))
	switch {
	case err == nil:
		logger.V(verbosity(method)).Info("RPC done", "duration", time.Since(start))
	case runtimeFault(code) && !gated:
		logger.Error(err, "RPC failed", "code", code.String(), "duration", time.Since(start))
	default:
		// The caller's request, not wincri, is at fault: kubelet asks
		// for containers it removed itself, retries names it reserved,
		// gives up on slow calls. The caller gets the error; the log
		// keeps it at V(2).
		logger.V(2).Info("RPC refused", "err", err, "code", code.String(), "duration", time.Since(start))
	}
}

// runtimeFault tells whether a failure with this code is wincri's own or
// its host's (logged as an error), rather than an answer to the request.
func runtimeFault(code codes.Code) bool {
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
		return true
	default:
		return false
	}
}

// verbosity keeps frequent read-only RPCs out of the default log.
func verbosity(method string) int {
	for _, p := range []string{"List", "Status", "Stats", "Version", "ImageFsInfo", "ContainerStats", "PodSandboxStats", "ExecSync", "GetContainerEvents"} {
		if strings.HasPrefix(method, p) || strings.HasSuffix(method, p) {
			return 5
		}
	}
	return 0
}

func (s *Server) withRequestLogger(ctx context.Context, method string) (context.Context, klog.Logger) {
	logger := s.logger.WithValues(logkeys.RPC, method, logkeys.RequestID, newRequestID())
	return klog.NewContext(ctx, logger), logger
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// contextStream carries the request logger into a streaming handler.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *contextStream) Context() context.Context { return c.ctx }
