package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/network"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
	"github.com/wincri/wincri/pkg/winversion"
)

// RunPod creates and starts a pod sandbox and returns its id. A retry of
// an identical request (kubelet's, after its deadline passed) gets the
// pod the first request builds instead of a "name is reserved" error.
func (m *Manager) RunPod(ctx context.Context, cfg *runtime.PodSandboxConfig, handlerName string) (string, error) {
	h, err := isolation.ResolveOn(m.cfg, handlerName, m.host)
	if err != nil {
		return "", err
	}
	if h.OS == isolation.OSWindows {
		if err := isolation.ValidateWindowsPod(cfg, h); err != nil {
			return "", err
		}
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding pod config: %w", err)
	}
	p, retry, err := m.reservePod(cfg, raw, h)
	if err != nil {
		return "", err
	}
	if retry {
		return m.awaitPod(ctx, p)
	}
	defer p.op.unlock()

	// kubelet's deadline may pass while a pod is built; its retry then
	// gets the pod this request goes on building.
	ctx, cancel := detach(ctx, m.buildTimeout)
	defer cancel()
	logger := klog.FromContext(ctx).WithValues(logkeys.PodSandboxID, p.id, logkeys.Pod, klog.KRef(cfg.GetMetadata().GetNamespace(), cfg.GetMetadata().GetName()))
	ctx = klog.NewContext(ctx, logger)
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(bucketPods, p.id, p.snapshot()) }); err != nil {
		m.forgetPod(p.id)
		return "", fmt.Errorf("recording pod sandbox: %w", err)
	}
	if err := m.startPod(ctx, p, h); err != nil {
		cctx, cancel := m.cleanupContext(ctx)
		defer cancel()
		if uerr := m.destroyPod(cctx, p); uerr != nil {
			logger.Error(uerr, "Undoing the failed pod sandbox left something behind; recovery retries at the next start")
		}
		return "", err
	}
	logger.Info("Pod sandbox ready", logkeys.Handler, h.Name, "isolation", h.Isolation, "ips", p.snapshot().IPs)
	m.publish(EventStarted, p.id, p.id)
	return p.id, nil
}

// reservePod reserves the pod's name. It returns the pod with its op lock
// held, or, for a retry of the same request, the existing pod (retry
// true, op lock not held).
func (m *Manager) reservePod(cfg *runtime.PodSandboxConfig, raw []byte, h isolation.Handler) (*pod, bool, error) {
	key := podNameKey(cfg.GetMetadata())
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.podNames[key]; ok {
		holder := m.pods[id]
		rec := holder.snapshot()
		if bytes.Equal(rec.Config, raw) && rec.Handler == h.Name && rec.State != PodNotReady {
			return holder, true, nil
		}
		return nil, false, fmt.Errorf("pod sandbox name %q is reserved by pod sandbox %s: %w", key, id, errdefs.ErrAlreadyExists)
	}
	id := newID()
	p := &pod{
		id:      id,
		handler: h,
		rec: PodRecord{
			ID:        id,
			Config:    raw,
			Handler:   h.Name,
			Isolation: h.Isolation,
			ShimBin:   h.Shim,
			State:     PodCreating,
			CreatedAt: time.Now(),
		},
		cfg: cfg,
	}
	p.op.mustLock()
	m.pods[id] = p
	m.podNames[key] = id
	return p, false, nil
}

// awaitPod waits, at most until ctx ends, for the request that is
// building p and returns its outcome to a retry of that request.
func (m *Manager) awaitPod(ctx context.Context, p *pod) (string, error) {
	if err := p.op.lock(ctx, "pod sandbox "+p.id); err != nil {
		return "", err
	}
	defer p.op.unlock()
	rec := p.snapshot()
	if rec.State == PodReady {
		return rec.ID, nil
	}
	if _, err := m.getPod(rec.ID); err != nil {
		return "", fmt.Errorf("the earlier attempt to run this pod sandbox failed; retry: %w", errdefs.ErrUnavailable)
	}
	return "", fmt.Errorf("pod sandbox %s is %s: %w", rec.ID, rec.State, errdefs.ErrFailedPrecondition)
}

// startPod does the side effects of RunPod in order: network, spec,
// shim, task. Each is recorded as soon as it exists, so that destroyPod
// (now or after a crash) finds it.
func (m *Manager) startPod(ctx context.Context, p *pod, h isolation.Handler) error {
	id, cfg := p.id, p.cfg
	if isolation.ProcessOnClient(h, m.host) {
		klog.FromContext(ctx).Info("Warning: process isolation on client Windows is for development and test only; use a hyperv handler in production",
			logkeys.PodSandboxID, id, logkeys.Handler, h.Name)
	}
	if isolation.HostNetworkIgnored(cfg, m.host.OS) {
		klog.FromContext(ctx).Info("Warning: the pod asks for the host network, which Windows gives HostProcess pods only; it runs with a pod network, as under containerd",
			logkeys.PodSandboxID, id)
	}
	if !m.hostNetwork(cfg) {
		res, err := m.network.Setup(ctx, podNetwork(id, cfg, ""))
		if err != nil {
			return fmt.Errorf("setting up the pod network: %w", err)
		}
		faultpoint.Hit(ctx, faultpoint.PodBeforeNetworkRecord)
		ips := make([]string, 0, len(res.IPs))
		for _, ip := range res.IPs {
			ips = append(ips, ip.String())
		}
		if err := m.updatePod(p, fields(func(r *PodRecord) { r.NetNS, r.IPs = res.NamespacePath, ips })); err != nil {
			return err
		}
		faultpoint.Hit(ctx, faultpoint.PodAfterNetwork)
	}
	bundle := m.dirs.podBundle(id)
	if err := os.MkdirAll(bundle, 0o711); err != nil {
		return err
	}
	pause, err := m.sandboxImage(ctx, h)
	if err != nil {
		return err
	}
	spec, mounts, err := m.plat.PodSpec(ctx, PodInput{ID: id, Config: cfg, Handler: h, NetNS: p.snapshot().NetNS, Bundle: bundle, SandboxImage: pause})
	if err != nil {
		return err
	}
	if err := writeSpec(bundle, spec); err != nil {
		return err
	}
	s, err := m.shims.Launch(ctx, shim.LaunchOpts{ID: id, PodID: id, Binary: h.Shim, Bundle: bundle, Options: h.Options})
	if err != nil {
		// The shim may have started before the launch failed.
		cctx, cancel := m.cleanupContext(ctx)
		defer cancel()
		if _, cerr := m.shims.Cleanup(cctx, h.Shim, bundle, id); cerr != nil && !gone(cerr) {
			klog.FromContext(ctx).V(2).Info("Cleaning up after a failed shim launch", "err", cerr)
		}
		return fmt.Errorf("starting the shim: %w", err)
	}
	p.setShim(s)
	if err := m.updatePod(p, fields(func(r *PodRecord) { r.Shim, r.ShimPid = s.Address(), s.Pid() })); err != nil {
		return err
	}
	m.watchShim(p, s)
	faultpoint.Hit(ctx, faultpoint.PodAfterShimLaunch)
	if err := m.createTask(ctx, s, shim.CreateOpts{ID: id, Bundle: bundle, Rootfs: mounts, Options: h.Options}); err != nil {
		return fmt.Errorf("creating the sandbox task: %w", err)
	}
	faultpoint.Hit(ctx, faultpoint.PodAfterTaskCreate)
	pid, err := m.startProcess(ctx, s, id, "")
	if err != nil {
		return fmt.Errorf("starting the sandbox task: %w", err)
	}
	return m.updatePod(p, fields(func(r *PodRecord) {
		r.Pid, r.State = pid, PodReady
		if h.HyperV() {
			r.UVMID = uvmID(id)
			if pause != nil {
				r.UVMOSVersion = pause.Config.OSVersion
			}
		}
	}))
}

// uvmID is the HCS id of a hyperv pod's utility VM: runhcs names it
// after the sandbox task.
func uvmID(podID string) string { return podID + "@vm" }

// sandboxImage resolves the variant of the configured pause image that
// the handler's pods boot, pulling it when it is missing; nil when none
// is configured.
func (m *Manager) sandboxImage(ctx context.Context, h isolation.Handler) (*image.Image, error) {
	ref := m.cfg.Image.SandboxImage
	if ref == "" {
		return nil, nil
	}
	t, handlers, err := m.imageTarget(ctx, h, "")
	if err != nil {
		return nil, err
	}
	img, err := m.images.ResolveFor(ctx, ref, t, handlers)
	if errdefs.IsNotFound(err) {
		if _, err = m.images.Pull(ctx, ref, image.PullOptions{Target: t, Handlers: handlers}); err != nil {
			return nil, fmt.Errorf("pulling the sandbox image %s: %w", ref, err)
		}
		img, err = m.images.ResolveFor(ctx, ref, t, handlers)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox image %s: %w", ref, err)
	}
	return img, nil
}

// imageTarget is the target images of handler h's pods are chosen for,
// with every handler's for errors. uvm is the os.version a hyperv pod's
// utility VM was found to run; "" takes the handler's configuration and
// the sandbox image's variants.
func (m *Manager) imageTarget(ctx context.Context, h isolation.Handler, uvm string) (image.Target, []image.Target, error) {
	t, handlers, err := m.images.TargetsFor(ctx, m.cfg, h.Name)
	if err != nil {
		return image.Target{}, nil, err
	}
	if v, err := winversion.Parse(uvm); err == nil && h.HyperV() {
		t.UVM = v
	}
	return t, handlers, nil
}

// destroyPod undoes everything a pod may have, in reverse order, and
// forgets it. Every step tolerates what is already gone.
func (m *Manager) destroyPod(ctx context.Context, p *pod) error {
	rec := p.snapshot()
	// A step that finds its object already gone is done; the others keep
	// their class, which decides the caller's gRPC code.
	var errs []error
	step := func(err error) {
		if err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	step(m.stopPodTask(ctx, p))
	step(m.releasePodShim(ctx, p))
	if cfg := p.cfg; !m.hostNetwork(cfg) {
		if err := m.network.Teardown(ctx, podNetwork(rec.ID, cfg, rec.NetNS)); err != nil {
			step(fmt.Errorf("tearing down the pod network: %w", err))
		}
	}
	faultpoint.Hit(ctx, faultpoint.PodAfterNetworkTeardown)
	step(m.plat.CleanupPod(ctx, rec.ID))
	step(os.RemoveAll(m.dirs.podBundle(rec.ID)))
	if len(errs) > 0 {
		// Keep the record: recovery retries the cleanup.
		return fmt.Errorf("cleaning up pod sandbox %s: %w", rec.ID, errors.Join(errs...))
	}
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Delete(bucketPods, rec.ID) }); err != nil {
		return err
	}
	m.forgetPod(rec.ID)
	return nil
}

func (m *Manager) forgetPod(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.podNames {
		if v == id {
			delete(m.podNames, k)
		}
	}
	delete(m.pods, id)
}

func writeSpec(bundle string, spec any) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encoding runtime spec: %w", err)
	}
	tmp := filepath.Join(bundle, "config.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(bundle, "config.json"))
}

// hostNetwork reports whether a pod runs on the node's network, which
// then has no pod network to set up or tear down.
func (m *Manager) hostNetwork(cfg *runtime.PodSandboxConfig) bool {
	return isolation.HostNetwork(cfg, m.host.OS)
}

// podNetwork describes a pod to the network manager.
func podNetwork(id string, cfg *runtime.PodSandboxConfig, netns string) network.PodNetwork {
	md := cfg.GetMetadata()
	pn := network.PodNetwork{
		ID:            id,
		Name:          md.GetName(),
		Namespace:     md.GetNamespace(),
		UID:           md.GetUid(),
		Annotations:   cfg.GetAnnotations(),
		NamespacePath: netns,
	}
	for _, pm := range cfg.GetPortMappings() {
		pn.PortMappings = append(pn.PortMappings, network.PortMapping{
			Protocol:      protocolName(pm.GetProtocol()),
			ContainerPort: pm.GetContainerPort(),
			HostPort:      pm.GetHostPort(),
			HostIP:        pm.GetHostIp(),
		})
	}
	if d := cfg.GetDnsConfig(); d != nil {
		pn.DNS = &network.DNS{Servers: d.GetServers(), Searches: d.GetSearches(), Options: d.GetOptions()}
	}
	return pn
}

func protocolName(p runtime.Protocol) network.Protocol {
	switch p {
	case runtime.Protocol_UDP:
		return network.ProtocolUDP
	case runtime.Protocol_SCTP:
		return network.ProtocolSCTP
	default:
		return network.ProtocolTCP
	}
}
