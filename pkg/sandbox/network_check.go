package sandbox

import (
	"context"
	"errors"
	"time"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/network"
)

// NetworkCheckInterval is how often the networks of ready pods are
// checked with CNI CHECK while wincri runs.
const NetworkCheckInterval = time.Minute

// NetworkCheck is the outcome of the last CNI CHECK of a pod's network.
type NetworkCheck struct {
	// At is when it ran; zero when it never did.
	At time.Time
	// Supported is false when the pod's network cannot be checked (its
	// CNI version predates CHECK, or it is the node's network).
	Supported bool
	// Healthy is false when the check found the network broken.
	Healthy bool
	// Message says what is broken, or why nothing was checked.
	Message string
}

// CheckPodNetwork runs the CNI CHECK of a ready pod's network and keeps
// the outcome, which PodStatus reports. A network that breaks is logged
// as an error, one that recovers as info.
func (m *Manager) CheckPodNetwork(ctx context.Context, id string) (NetworkCheck, error) {
	p, err := m.getPod(id)
	if err != nil {
		return NetworkCheck{}, err
	}
	rec := p.snapshot()
	if rec.State != PodReady {
		return p.networkCheck(), nil
	}
	res := NetworkCheck{At: time.Now(), Supported: true, Healthy: true}
	if m.hostNetwork(p.cfg) {
		res.Supported, res.Message = false, "the pod uses the node's network"
	} else if err := m.network.Check(ctx, podNetwork(rec.ID, p.cfg, rec.NetNS)); errors.Is(err, network.ErrCheckUnsupported) {
		res.Supported, res.Message = false, err.Error()
	} else if err != nil {
		res.Healthy, res.Message = false, err.Error()
	}
	prev := p.setNetworkCheck(res)
	logger := klog.FromContext(ctx).WithValues(logkeys.PodSandboxID, rec.ID)
	switch {
	case !res.Healthy && (prev.At.IsZero() || prev.Healthy):
		logger.Error(errors.New(res.Message), "The pod's network is broken")
	case res.Healthy && !prev.At.IsZero() && !prev.Healthy:
		logger.Info("The pod's network is healthy again")
	}
	return res, nil
}

// networkCheckTimeout bounds a check started by CheckPodNetworkSoon.
const networkCheckTimeout = time.Minute

// CheckPodNetworkSoon starts, in the background, the first CNI CHECK of
// a pod's network, unless the pod was checked already or its check runs:
// a verbose PodStatus reports the last check instead of running one,
// which would make it as slow as a CNI plugin run (tens of ms). The
// periodic checks keep the outcome fresh after that.
func (m *Manager) CheckPodNetworkSoon(id string) {
	p, err := m.getPod(id)
	if err != nil {
		return
	}
	p.mu.Lock()
	start := p.netCheck.At.IsZero() && !p.netChecking
	if start {
		p.netChecking = true
	}
	p.mu.Unlock()
	if !start {
		return
	}
	go func() {
		defer func() {
			p.mu.Lock()
			p.netChecking = false
			p.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), m.logger), networkCheckTimeout)
		defer cancel()
		_, _ = m.CheckPodNetwork(ctx, id)
	}()
}

// RunNetworkChecks checks the networks of ready pods every interval
// until ctx ends.
func (m *Manager) RunNetworkChecks(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		for _, p := range m.ListPods(PodFilter{State: PodReady}) {
			if ctx.Err() != nil {
				return
			}
			_, _ = m.CheckPodNetwork(ctx, p.ID)
		}
	})
}

func (p *pod) networkCheck() NetworkCheck {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.netCheck
}

// setNetworkCheck keeps a check's outcome and returns the previous one.
func (p *pod) setNetworkCheck(c NetworkCheck) NetworkCheck {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.netCheck
	p.netCheck = c
	return prev
}
