package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// ListPodSandbox lists pods by id prefix, state and labels.
func (s *Server) ListPodSandbox(ctx context.Context, req *runtime.ListPodSandboxRequest) (*runtime.ListPodSandboxResponse, error) {
	f := req.GetFilter()
	filter := sandbox.PodFilter{ID: f.GetId(), Labels: f.GetLabelSelector()}
	if st := f.GetState(); st != nil {
		filter.State = sandbox.PodNotReady
		if st.GetState() == runtime.PodSandboxState_SANDBOX_READY {
			filter.State = sandbox.PodReady
		}
	}
	pods := s.runtime.ListPods(filter)
	resp := &runtime.ListPodSandboxResponse{Items: make([]*runtime.PodSandbox, 0, len(pods))}
	for _, p := range pods {
		resp.Items = append(resp.Items, toCRIPod(p))
	}
	return resp, nil
}
