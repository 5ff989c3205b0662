package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Attach returns the URL of an attach session to a running container.
func (s *Server) Attach(_ context.Context, req *runtime.AttachRequest) (*runtime.AttachResponse, error) {
	st, err := s.streamServer()
	if err != nil {
		return nil, err
	}
	if err := validateID("container_id", req.GetContainerId()); err != nil {
		return nil, err
	}
	c, err := s.runningContainer(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	return st.GetAttach(&runtime.AttachRequest{ContainerId: c.ID, Stdin: req.GetStdin(), Tty: req.GetTty(), Stdout: req.GetStdout(), Stderr: req.GetStderr()})
}
