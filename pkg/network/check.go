package network

import (
	"context"
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
)

// ErrCheckUnsupported says that a pod's network cannot be checked: its
// CNI version predates CHECK (0.4.0), or its configuration disables it.
var ErrCheckUnsupported = errors.New("the pod's CNI network does not support CHECK")

// Check runs the CNI CHECK of every network the pod was set up on, with
// the configuration and arguments of its ADD, and returns why the pod's
// network is broken: its namespace or its recorded attachment gone, or a
// plugin's CHECK failing. ErrCheckUnsupported (wrapped) when it cannot be
// checked; nil for a healthy network and for host-network pods.
func (m *Manager) Check(ctx context.Context, pod PodNetwork) error {
	if err := validatePodID(pod.ID); err != nil {
		return err
	}
	if pod.HostNetwork {
		return nil
	}
	m.gcMu.RLock()
	defer m.gcMu.RUnlock()
	nsPath, err := m.ns.Path(pod.ID)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return errors.New("the pod's network namespace is gone")
		}
		return err
	}
	atts, err := m.cni.GetCachedAttachments(pod.ID)
	if err != nil {
		return fmt.Errorf("CNI cache of pod %s: %v: %w", pod.ID, err, errdefs.ErrUnavailable)
	}
	if len(atts) == 0 {
		return errors.New("no CNI attachment of the pod is recorded: its setup never finished")
	}
	var errs []error
	unsupported := 0
	for _, att := range atts {
		list, err := libcni.NetworkConfFromBytes(att.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("cached configuration of network %q: %w", att.Network, err))
			continue
		}
		if list.DisableCheck {
			unsupported++
			continue
		}
		rt := &libcni.RuntimeConf{ContainerID: att.ContainerID, NetNS: nsPath, IfName: att.IfName, Args: att.CniArgs, CapabilityArgs: att.CapabilityArgs}
		err = m.cni.CheckNetworkList(ctx, list, rt)
		switch {
		case errors.Is(err, libcni.ErrorCheckNotSupp):
			unsupported++
		case err != nil:
			errs = append(errs, fmt.Errorf("CNI CHECK of network %q: %w", att.Network, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if unsupported == len(atts) {
		return fmt.Errorf("pod %s: %w", pod.ID, ErrCheckUnsupported)
	}
	return nil
}
