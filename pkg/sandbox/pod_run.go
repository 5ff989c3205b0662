package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	bundle := m.dirs.podBundle(id)
	if err := os.MkdirAll(bundle, 0o711); err != nil {
		return err
	}
	// The shim starts while the network is set up: neither needs the
	// other, and the spec that joins them is written before the task is
	// created. Whatever fails, the launch and the setup are waited for,
	// so that the pod's cleanup finds what they made.
	if err := writeSpec(bundle, launchSpec(id)); err != nil {
		return err
	}
	launched := m.launchShim(ctx, p, h, bundle)
	early := !m.hostNetwork(cfg) && taskBeforeNetwork(h, cfg)
	nsReady := make(chan string, 1)
	netDone := make(chan error, 1)
	go func() {
		var notify func(string)
		if early {
			notify = func(path string) { nsReady <- path }
		}
		netDone <- m.setupPodNetwork(ctx, p, notify)
	}()
	var (
		netErr      error
		netFinished bool
		nsPath      string
	)
	if early {
		select {
		case nsPath = <-nsReady:
		case netErr = <-netDone:
			netFinished = true
		}
	} else {
		netErr, netFinished = <-netDone, true
	}
	s, err := launched()
	var (
		pause *image.Image
		pid   uint32
	)
	if err == nil && netErr == nil {
		faultpoint.Hit(ctx, faultpoint.PodAfterShimLaunch)
		if nsPath == "" {
			nsPath = p.snapshot().NetNS
		}
		pause, pid, err = m.startSandboxTask(ctx, p, h, s, bundle, nsPath)
	}
	if !netFinished {
		netErr = <-netDone
	}
	if netErr != nil {
		return netErr
	}
	if err != nil {
		return err
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

// taskBeforeNetwork reports whether a pod's sandbox task may start as
// soon as its network namespace exists, while the CNI plugins set it up:
// a Linux task joins the namespace by path and the pause process needs
// no interface. Not on Windows, where a hyperv pod's utility VM takes
// the namespace's endpoints when it starts, nor for a pod that sets a
// sysctl of one interface, which must exist when runc applies it.
func taskBeforeNetwork(h isolation.Handler, cfg *runtime.PodSandboxConfig) bool {
	if h.OS == isolation.OSWindows {
		return false
	}
	for name := range cfg.GetLinux().GetSysctls() {
		for _, prefix := range []string{"net.ipv4.conf.", "net.ipv6.conf.", "net.ipv4.neigh.", "net.ipv6.neigh."} {
			iface, ok := strings.CutPrefix(name, prefix)
			if ok && !strings.HasPrefix(iface, "all.") && !strings.HasPrefix(iface, "default.") {
				return false
			}
		}
	}
	return true
}

// startSandboxTask writes the pod's full spec, joined to the network
// namespace at nsPath, and creates and starts the sandbox task.
func (m *Manager) startSandboxTask(ctx context.Context, p *pod, h isolation.Handler, s shim.Shim, bundle, nsPath string) (*image.Image, uint32, error) {
	pause, err := m.sandboxImage(ctx, h)
	if err != nil {
		return nil, 0, err
	}
	spec, mounts, err := m.plat.PodSpec(ctx, PodInput{ID: p.id, Config: p.cfg, Handler: h, NetNS: nsPath, Bundle: bundle, SandboxImage: pause})
	if err != nil {
		return nil, 0, err
	}
	if err := writeSpec(bundle, spec); err != nil {
		return nil, 0, err
	}
	if err := m.createTask(ctx, s, shim.CreateOpts{ID: p.id, Bundle: bundle, Rootfs: mounts, Options: h.Options}); err != nil {
		return nil, 0, fmt.Errorf("creating the sandbox task: %w", err)
	}
	faultpoint.Hit(ctx, faultpoint.PodAfterTaskCreate)
	pid, err := m.startProcess(ctx, s, p.id, "")
	if err != nil {
		return nil, 0, fmt.Errorf("starting the sandbox task: %w", err)
	}
	return pause, pid, nil
}

// setupPodNetwork sets up the pod's network, unless it uses the node's,
// and records its namespace and addresses. nsReady, when not nil, gets
// the namespace's path as soon as it exists, before the plugins run.
func (m *Manager) setupPodNetwork(ctx context.Context, p *pod, nsReady func(string)) error {
	if m.hostNetwork(p.cfg) {
		return nil
	}
	pn := podNetwork(p.id, p.cfg, "")
	pn.NamespaceReady = nsReady
	res, err := m.network.Setup(ctx, pn)
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
	return nil
}

// launchSpec is all a shim reads of the bundle when it starts: the
// annotations saying that it serves a pod's sandbox (containerd's runc
// shim, cmd/containerd-shim-runc-v2/manager/manager_linux.go, readSpec
// and groupLabels; hcsshim's runhcs shim, cmd/containerd-shim-runhcs-v1
// start.go, getSpecAnnotations). The pod's full spec, which needs its
// network, replaces it before the task is created.
func launchSpec(podID string) specs.Spec {
	return specs.Spec{Version: specs.Version, Annotations: map[string]string{
		shim.AnnotationContainerType: shim.ContainerTypeSandbox,
		shim.AnnotationSandboxID:     podID,
	}}
}

// launchShim starts the pod's shim in the background; the function it
// returns waits for the launch. A launched shim is the pod's, recorded
// and watched, before the wait returns, so that a pod that fails later
// stops it.
func (m *Manager) launchShim(ctx context.Context, p *pod, h isolation.Handler, bundle string) func() (shim.Shim, error) {
	type result struct {
		s   shim.Shim
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := m.shims.Launch(ctx, shim.LaunchOpts{ID: p.id, PodID: p.id, Binary: h.Shim, Bundle: bundle, Options: h.Options})
		if err != nil {
			// The shim may have started before the launch failed.
			cctx, cancel := m.cleanupContext(ctx)
			defer cancel()
			if _, cerr := m.shims.Cleanup(cctx, h.Shim, bundle, p.id); cerr != nil && !gone(cerr) {
				klog.FromContext(ctx).V(2).Info("Cleaning up after a failed shim launch", "err", cerr)
			}
			done <- result{err: fmt.Errorf("starting the shim: %w", err)}
			return
		}
		p.setShim(s)
		err = m.updatePod(p, fields(func(r *PodRecord) { r.Shim, r.ShimPid = s.Address(), s.Pid() }))
		m.watchShim(p, s)
		done <- result{s: s, err: err}
	}()
	return func() (shim.Shim, error) {
		r := <-done
		return r.s, r.err
	}
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
