package cri

import (
	"encoding/json"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

func podState(s sandbox.PodState) runtime.PodSandboxState {
	if s == sandbox.PodReady {
		return runtime.PodSandboxState_SANDBOX_READY
	}
	return runtime.PodSandboxState_SANDBOX_NOTREADY
}

func toCRIPod(p sandbox.Pod) *runtime.PodSandbox {
	return &runtime.PodSandbox{
		Id:             p.ID,
		Metadata:       p.Config.GetMetadata(),
		State:          podState(p.State),
		CreatedAt:      unixNano(p.CreatedAt),
		Labels:         p.Config.GetLabels(),
		Annotations:    p.Config.GetAnnotations(),
		RuntimeHandler: p.Handler,
	}
}

func toCRIPodStatus(p sandbox.Pod) *runtime.PodSandboxStatus {
	st := &runtime.PodSandboxStatus{
		Id:             p.ID,
		Metadata:       p.Config.GetMetadata(),
		State:          podState(p.State),
		CreatedAt:      unixNano(p.CreatedAt),
		Network:        &runtime.PodSandboxNetworkStatus{},
		Labels:         p.Config.GetLabels(),
		Annotations:    p.Config.GetAnnotations(),
		RuntimeHandler: p.Handler,
	}
	if len(p.IPs) > 0 {
		st.Network.Ip = p.IPs[0]
		for _, ip := range p.IPs[1:] {
			st.Network.AdditionalIps = append(st.Network.AdditionalIps, &runtime.PodIP{Ip: ip})
		}
	}
	if ns := p.Config.GetLinux().GetSecurityContext().GetNamespaceOptions(); ns != nil {
		st.Linux = &runtime.LinuxPodSandboxStatus{Namespaces: &runtime.Namespace{Options: ns}}
	}
	return st
}

// podInfo is PodSandboxStatus's verbose info.
type podInfo struct {
	ID        string                    `json:"id"`
	Handler   string                    `json:"runtimeHandler"`
	Isolation string                    `json:"isolation"`
	Pid       uint32                    `json:"pid"`
	ShimPid   int                       `json:"shimPid"`
	Shim      string                    `json:"shimAddress,omitempty"`
	NetNS     string                    `json:"netNamespacePath,omitempty"`
	UVMID     string                    `json:"uvmID,omitempty"`
	Config    *runtime.PodSandboxConfig `json:"config"`
	// Conditions are the pod's health as wincri last checked it.
	Conditions []podCondition `json:"conditions,omitempty"`
}

// podCondition is one aspect of a pod's health, shaped like CRI's
// RuntimeCondition.
type podCondition struct {
	Type          string `json:"type"`
	Status        bool   `json:"status"`
	Reason        string `json:"reason"`
	Message       string `json:"message,omitempty"`
	LastCheckTime string `json:"lastCheckTime"`
}

// Pod conditions and their reasons.
const (
	condPodNetworkHealthy      = "PodNetworkHealthy"
	reasonCNICheckPassed       = "CNICheckPassed"
	reasonCNICheckFailed       = "CNICheckFailed"
	reasonCNICheckNotSupported = "CNICheckNotSupported"
)

// networkCondition is the pod network's health from its last CNI CHECK;
// nil when it was never checked.
func networkCondition(c sandbox.NetworkCheck) *podCondition {
	if c.At.IsZero() {
		return nil
	}
	cond := &podCondition{Type: condPodNetworkHealthy, Status: c.Healthy, Reason: reasonCNICheckPassed,
		Message: c.Message, LastCheckTime: c.At.UTC().Format(time.RFC3339Nano)}
	switch {
	case !c.Supported:
		cond.Reason = reasonCNICheckNotSupported
	case !c.Healthy:
		cond.Reason = reasonCNICheckFailed
	}
	return cond
}

func podVerboseInfo(p sandbox.Pod) (map[string]string, error) {
	info := podInfo{
		ID: p.ID, Handler: p.Handler, Isolation: string(p.Isolation), Pid: p.Pid, ShimPid: p.ShimPid,
		Shim: p.Shim.Address, NetNS: p.NetNS, UVMID: p.UVMID, Config: p.Config,
	}
	if c := networkCondition(p.NetworkCheck); c != nil {
		info.Conditions = append(info.Conditions, *c)
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return map[string]string{"info": string(b)}, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
