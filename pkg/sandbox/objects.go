package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/isolation"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// pod is a pod sandbox in memory. op serialises lifecycle operations on
// it; mu guards its record and shim for short reads and updates, so that
// status calls never wait behind a long stop.
type pod struct {
	// id never changes; read it without locks.
	id string
	op opLock

	// handler is the runtime handler the pod was resolved to when it was
	// run (or when wincri recovered it); its containers use the same.
	// handlerErr is why a recovered pod has none: its handler left the
	// configuration. Both never change.
	handler    isolation.Handler
	handlerErr error

	mu  sync.RWMutex
	rec PodRecord
	cfg *runtime.PodSandboxConfig
	// conn is the connection to the pod's shim, nil once released or
	// dead; shimEnd says which (pod_shim.go).
	conn    *shimConn
	shimEnd shimEnd
	// netCheck is the last CNI CHECK of the pod's network; netChecking
	// is set while CheckPodNetworkSoon's check runs.
	netCheck    NetworkCheck
	netChecking bool
}

// runtimeHandler is the pod's resolved handler.
func (p *pod) runtimeHandler() (isolation.Handler, error) {
	return p.handler, p.handlerErr
}

func (p *pod) snapshot() PodRecord {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r := p.rec
	r.IPs = append([]string(nil), p.rec.IPs...)
	return r
}

// container is a container in memory, locked like pod.
type container struct {
	// id never changes; read it without locks.
	id string
	op opLock

	mu  sync.RWMutex
	rec ContainerRecord
	cfg *runtime.ContainerConfig
	// exited is closed when the running task has exited, its exit is
	// recorded and its deletion in the shim tried; replaced at each
	// start. taskDeleted says the deletion succeeded.
	exited      chan struct{}
	taskDeleted bool
	// stalePid is the process of a leftover task that StartContainer
	// deleted; its exit event must not end the new one.
	stalePid uint32
	// starting is set while StartContainer creates and starts the task,
	// so that an exit arriving before the start is recorded publishes its
	// Stopped event after the Started one.
	starting bool
}

func (c *container) snapshot() ContainerRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rec
}

// exitCh returns the channel closed when the current task exits.
func (c *container) exitCh() chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.exited
}

func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func podNameKey(md *runtime.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%d", md.GetName(), md.GetNamespace(), md.GetUid(), md.GetAttempt())
}

func containerNameKey(podID string, md *runtime.ContainerMetadata) string {
	return fmt.Sprintf("%s_%s_%d", podID, md.GetName(), md.GetAttempt())
}

// getPod finds a pod by id or unique id prefix.
func (m *Manager) getPod(id string) (*pod, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return lookup(m.pods, id, "pod sandbox")
}

// getContainer finds a container by id or unique id prefix.
func (m *Manager) getContainer(id string) (*container, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return lookup(m.ctrs, id, "container")
}

// lookup finds an object by full id or by a unique prefix of it, as
// crictl users type them.
func lookup[T any](objs map[string]T, id, kind string) (T, error) {
	if o, ok := objs[id]; ok {
		return o, nil
	}
	var (
		found T
		n     int
	)
	if id != "" {
		for full, o := range objs {
			if strings.HasPrefix(full, id) {
				found = o
				n++
			}
		}
	}
	switch n {
	case 0:
		return found, fmt.Errorf("%s %q: %w", kind, id, errdefs.ErrNotFound)
	case 1:
		return found, nil
	default:
		return found, fmt.Errorf("%s id prefix %q matches %d objects: %w", kind, id, n, errdefs.ErrInvalidArgument)
	}
}

// lockPod takes the pod's operation lock, waiting at most until ctx ends,
// and returns the pod. A pod that is gone, before the wait or during it,
// is NotFound.
func (m *Manager) lockPod(ctx context.Context, id string) (*pod, error) {
	p, err := m.getPod(id)
	if err != nil {
		return nil, err
	}
	return p, m.lockIfCurrent(ctx, &p.op, "pod sandbox", p.id, func() bool { return m.pods[p.id] == p })
}

// lockContainer is lockPod for containers.
func (m *Manager) lockContainer(ctx context.Context, id string) (*container, error) {
	c, err := m.getContainer(id)
	if err != nil {
		return nil, err
	}
	return c, m.lockIfCurrent(ctx, &c.op, "container", c.id, func() bool { return m.ctrs[c.id] == c })
}

// lockIfCurrent takes l and then checks, under m.mu, that its object is
// still the Manager's: an earlier request that held the lock may have
// removed it.
func (m *Manager) lockIfCurrent(ctx context.Context, l *opLock, kind, id string, current func() bool) error {
	if err := l.lock(ctx, kind+" "+id); err != nil {
		return err
	}
	m.mu.RLock()
	ok := current()
	m.mu.RUnlock()
	if !ok {
		l.unlock()
		return fmt.Errorf("%s %q was removed by an earlier request: %w", kind, id, errdefs.ErrNotFound)
	}
	return nil
}

// podContainers lists a pod's containers.
func (m *Manager) podContainers(podID string) []*container {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*container
	for _, c := range m.ctrs {
		if c.snapshot().PodID == podID {
			out = append(out, c)
		}
	}
	return out
}

func decodePodConfig(b []byte) (*runtime.PodSandboxConfig, error) {
	cfg := &runtime.PodSandboxConfig{}
	if err := proto.Unmarshal(b, cfg); err != nil {
		return nil, fmt.Errorf("decoding pod config: %w", err)
	}
	return cfg, nil
}

func decodeContainerConfig(b []byte) (*runtime.ContainerConfig, error) {
	cfg := &runtime.ContainerConfig{}
	if err := proto.Unmarshal(b, cfg); err != nil {
		return nil, fmt.Errorf("decoding container config: %w", err)
	}
	return cfg, nil
}
