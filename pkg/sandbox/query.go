package sandbox

import (
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
)

// Pod is a read-only view of a pod sandbox.
type Pod struct {
	PodRecord
	Config *runtime.PodSandboxConfig
	// NetworkCheck is the last CNI CHECK of the pod's network.
	NetworkCheck NetworkCheck
}

// Container is a read-only view of a container.
type Container struct {
	ContainerRecord
	Config *runtime.ContainerConfig
	// PodConfig is the config of the container's pod, nil if it is gone.
	PodConfig *runtime.PodSandboxConfig
	// Resources are the last resources UpdateContainerResources applied,
	// nil before any update.
	Resources *runtime.ContainerResources
	// Isolation is the pod's isolation, and UVMID its utility VM (hyperv
	// pods): a hyperv container's Pid is a process inside that VM, not a
	// host process.
	Isolation config.Isolation
	UVMID     string
}

// PodFilter selects pods; zero fields select everything.
type PodFilter struct {
	// ID is a full id or an id prefix.
	ID     string
	State  PodState
	Labels map[string]string
}

// ContainerFilter selects containers; zero fields select everything.
type ContainerFilter struct {
	ID     string
	PodID  string
	State  ContainerState
	Labels map[string]string
}

// PodStatus returns a pod by id or unique id prefix.
func (m *Manager) PodStatus(id string) (Pod, error) {
	p, err := m.getPod(id)
	if err != nil {
		return Pod{}, err
	}
	return Pod{PodRecord: p.snapshot(), Config: p.cfg, NetworkCheck: p.networkCheck()}, nil
}

// ListPods returns the pods that match f, oldest first. Pods still being
// created are listed only once they exist for kubelet (ready).
func (m *Manager) ListPods(f PodFilter) []Pod {
	m.mu.RLock()
	pods := make([]*pod, 0, len(m.pods))
	for _, p := range m.pods {
		pods = append(pods, p)
	}
	m.mu.RUnlock()
	var out []Pod
	for _, p := range pods {
		rec := p.snapshot()
		if rec.State == PodCreating ||
			!strings.HasPrefix(rec.ID, f.ID) ||
			(f.State != "" && rec.State != f.State) ||
			!matchLabels(p.cfg.GetLabels(), f.Labels) {
			continue
		}
		out = append(out, Pod{PodRecord: rec, Config: p.cfg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// ContainerStatus returns a container by id or unique id prefix.
func (m *Manager) ContainerStatus(id string) (Container, error) {
	c, err := m.getContainer(id)
	if err != nil {
		return Container{}, err
	}
	return m.containerView(c), nil
}

func (m *Manager) containerView(c *container) Container {
	v := Container{ContainerRecord: c.snapshot(), Config: c.cfg}
	if len(v.UpdatedResources) > 0 {
		r := &runtime.ContainerResources{}
		if proto.Unmarshal(v.UpdatedResources, r) == nil {
			v.Resources = r
		}
	}
	if p, err := m.getPod(v.PodID); err == nil {
		v.PodConfig = p.cfg
		prec := p.snapshot()
		v.Isolation, v.UVMID = prec.Isolation, prec.UVMID
	}
	return v
}

// UVMWorkerPid is the host PID of the worker process (vmwp.exe) that runs
// utility VM uvmID, where a hyperv pod's containers live.
func (m *Manager) UVMWorkerPid(uvmID string) (uint32, error) {
	return uvmWorkerPid(uvmID)
}

// ListContainers returns the containers that match f, oldest first.
func (m *Manager) ListContainers(f ContainerFilter) []Container {
	m.mu.RLock()
	ctrs := make([]*container, 0, len(m.ctrs))
	for _, c := range m.ctrs {
		ctrs = append(ctrs, c)
	}
	m.mu.RUnlock()
	var out []Container
	for _, c := range ctrs {
		rec := c.snapshot()
		if rec.State == ContainerCreating ||
			!strings.HasPrefix(rec.ID, f.ID) ||
			!strings.HasPrefix(rec.PodID, f.PodID) ||
			(f.State != "" && rec.State != f.State) ||
			!matchLabels(c.cfg.GetLabels(), f.Labels) {
			continue
		}
		out = append(out, m.containerView(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

func matchLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
