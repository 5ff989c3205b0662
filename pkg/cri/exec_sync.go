package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxExecTimeout bounds ExecSync's timeout (one day).
const maxExecTimeout = 24 * 60 * 60

// ExecSync runs a command in a container and returns its output.
func (s *Server) ExecSync(ctx context.Context, req *runtime.ExecSyncRequest) (*runtime.ExecSyncResponse, error) {
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	if len(req.GetCmd()) == 0 {
		return nil, invalid("cmd must not be empty")
	}
	for i, a := range req.GetCmd() {
		if err := validateString("cmd", a, 1<<20); err != nil {
			return nil, invalid("cmd[%d]: %v", i, err)
		}
	}
	if t := req.GetTimeout(); t < 0 || t > maxExecTimeout {
		return nil, invalid("timeout %d must be within 0-%d seconds", t, maxExecTimeout)
	}
	res, err := s.runtime.ExecSync(ctx, req.GetContainerId(), req.GetCmd(), time.Duration(req.GetTimeout())*time.Second)
	if err != nil {
		return nil, err
	}
	return &runtime.ExecSyncResponse{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: res.ExitCode}, nil
}
