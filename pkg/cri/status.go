package cri

import (
	"context"
	"encoding/json"
	"fmt"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Reasons reported with a false runtime condition.
const networkNotReadyReason = "NetworkPluginNotReady"

// Status reports RuntimeReady and NetworkReady; verbose adds the
// effective configuration.
func (s *Server) Status(ctx context.Context, req *runtime.StatusRequest) (*runtime.StatusResponse, error) {
	netCond := &runtime.RuntimeCondition{Type: runtime.NetworkReady, Status: true}
	if err := s.network.Status(); err != nil {
		netCond.Status = false
		netCond.Reason = networkNotReadyReason
		netCond.Message = fmt.Sprintf("network plugin not ready: %v", err)
	}
	resp := &runtime.StatusResponse{
		Status: &runtime.RuntimeStatus{Conditions: []*runtime.RuntimeCondition{
			{Type: runtime.RuntimeReady, Status: true},
			netCond,
		}},
		RuntimeHandlers: s.runtimeHandlers(),
		Features:        &runtime.RuntimeFeatures{SupplementalGroupsPolicy: s.linux},
	}
	if req.GetVerbose() {
		cfg, err := json.Marshal(s.cfg)
		if err != nil {
			return nil, fmt.Errorf("encoding config: %w", err)
		}
		resp.Info = map[string]string{"config": string(cfg)}
	}
	return resp, nil
}

// handlerFeatures are what every handler supports. User namespaces are
// not: wincri refuses pods that ask for them.
func (s *Server) handlerFeatures() *runtime.RuntimeHandlerFeatures {
	return &runtime.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: s.recursiveReadOnly}
}

// runtimeHandlers lists the configured handlers and what they support,
// the default handler also under the empty name as kubelet expects.
func (s *Server) runtimeHandlers() []*runtime.RuntimeHandler {
	names := s.cfg.HandlerNames()
	handlers := make([]*runtime.RuntimeHandler, 0, len(names)+1)
	for _, name := range names {
		handlers = append(handlers, &runtime.RuntimeHandler{Name: name, Features: s.handlerFeatures()})
		if name == s.cfg.DefaultRuntime {
			handlers = append(handlers, &runtime.RuntimeHandler{Name: "", Features: s.handlerFeatures()})
		}
	}
	return handlers
}
