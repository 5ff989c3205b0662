package cri

import (
	"fmt"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// StreamServer hands out the streaming server's single-use session
// URLs (*streaming.Server implements it).
type StreamServer interface {
	GetExec(*runtime.ExecRequest) (*runtime.ExecResponse, error)
	GetAttach(*runtime.AttachRequest) (*runtime.AttachResponse, error)
	GetPortForward(*runtime.PortForwardRequest) (*runtime.PortForwardResponse, error)
}

func (s *Server) streamServer() (StreamServer, error) {
	if s.streams == nil {
		return nil, fmt.Errorf("this runtime does not serve streams: %w", errdefs.ErrNotImplemented)
	}
	return s.streams, nil
}

func (s *Server) runningContainer(id string) (sandbox.Container, error) {
	c, err := s.runtime.ContainerStatus(id)
	if err != nil {
		return c, err
	}
	if c.State != sandbox.ContainerRunning {
		return c, fmt.Errorf("container %s is %s, not running: %w", c.ID, c.State, errdefs.ErrFailedPrecondition)
	}
	return c, nil
}
