package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Exec returns the URL of an exec session in a running container.
func (s *Server) Exec(_ context.Context, req *runtime.ExecRequest) (*runtime.ExecResponse, error) {
	st, err := s.streamServer()
	if err != nil {
		return nil, err
	}
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	if len(req.GetCmd()) == 0 {
		return nil, invalid("cmd must not be empty")
	}
	c, err := s.runningContainer(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	// The session finds the container by its full id, not the prefix
	// a crictl user typed.
	return st.GetExec(&runtime.ExecRequest{ContainerId: c.ID, Cmd: req.GetCmd(), Tty: req.GetTty(), Stdin: req.GetStdin(), Stdout: req.GetStdout(), Stderr: req.GetStderr()})
}
