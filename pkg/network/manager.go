package network

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/limit"
)

// cleanupTimeout bounds the undo of a failed Setup, which runs on a fresh
// context because the caller's may be what expired.
const cleanupTimeout = time.Minute

// cniRunner is the part of libcni the manager uses; tests substitute a
// fake.
type cniRunner interface {
	AddNetworkList(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) (types.Result, error)
	DelNetworkList(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error
	GetCachedAttachments(containerID string) ([]*libcni.NetworkAttachment, error)
	GCNetworkList(ctx context.Context, list *libcni.NetworkConfigList, args *libcni.GCArgs) error
	CheckNetworkList(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error
}

// Manager sets up and tears down pod networks.
type Manager struct {
	binDirs []string
	confDir string
	conf    *confCache
	cni     cniRunner
	ns      namespaces
	def     DefaultNetwork
	// hns, on Windows, says whether the HNS network of a CNI
	// configuration exists; nil elsewhere.
	hns hnsNetworks
	// versions picks the built-in network's CNI version.
	versions *pluginVersions
	// limit bounds the Setups and teardowns running at once; nil is no
	// bound.
	limit *limit.Limiter

	// gcMu is held shared by Setup and Teardown, and exclusively by GC.
	gcMu sync.RWMutex

	mu       sync.RWMutex
	podCIDRs []netip.Prefix
	// stateDir keeps the pod CIDR (podCIDRFile) across restarts.
	stateDir string
}

// podCIDRFile, under the state directory, holds the pod CIDR kubelet set:
// kubelet does not send it again to a restarted runtime. It goes with a
// reboot, as kubelet then starts afresh and sends it again.
const podCIDRFile = "pod-cidr"

// Option changes a Manager at construction.
type Option func(*Manager)

// WithLimiter bounds how many pod network setups and teardowns (CNI ADD
// and DEL) run at once.
func WithLimiter(l *limit.Limiter) Option {
	return func(m *Manager) { m.limit = l }
}

// WithDefaultNetwork replaces the built-in network's name, bridge and
// subnet; zero fields keep their defaults.
func WithDefaultNetwork(d DefaultNetwork) Option {
	return func(m *Manager) {
		if d.Name != "" {
			m.def.Name = d.Name
		}
		if d.Bridge != "" {
			m.def.Bridge = d.Bridge
		}
		if d.Subnet.IsValid() {
			m.def.Subnet = d.Subnet.Masked()
		}
		if d.IPAMDir != "" {
			m.def.IPAMDir = d.IPAMDir
		}
	}
}

// New returns a Manager for the [cni] configuration that keeps its state
// (namespaces, libcni's result cache, host-local allocations of the
// built-in network) under stateDir.
func New(cfg config.CNI, stateDir string, opts ...Option) (*Manager, error) {
	if len(cfg.BinDirs) == 0 || cfg.ConfDir == "" {
		return nil, fmt.Errorf("cni: bin_dirs and conf_dir must be set: %w", errdefs.ErrInvalidArgument)
	}
	if stateDir == "" {
		return nil, fmt.Errorf("network state directory must be set: %w", errdefs.ErrInvalidArgument)
	}
	m := &Manager{
		stateDir: stateDir,
		binDirs:  append([]string(nil), cfg.BinDirs...),
		confDir:  cfg.ConfDir,
		conf:     newConfCache(cfg.ConfDir),
		hns:      hostNetworks(),
		versions: &pluginVersions{exec: pluginExec()},
		cni:      libcni.NewCNIConfigWithCacheDir(cfg.BinDirs, filepath.Join(stateDir, "cni-cache"), pluginExec()),
		ns:       newNamespaces(filepath.Join(stateDir, "netns")),
		def: DefaultNetwork{
			Name:    DefaultNetworkName,
			Bridge:  DefaultBridge,
			Subnet:  netip.MustParsePrefix(DefaultSubnet),
			IPAMDir: filepath.Join(stateDir, "ipam"),
		},
	}
	for _, o := range opts {
		o(m)
	}
	saved, err := os.ReadFile(filepath.Join(stateDir, podCIDRFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading the saved pod CIDR: %w", err)
	default:
		if m.podCIDRs, err = ParsePodCIDRs(strings.TrimSpace(string(saved))); err != nil {
			return nil, fmt.Errorf("the saved pod CIDR in %s: %w", filepath.Join(stateDir, podCIDRFile), err)
		}
	}
	return m, nil
}

// pluginExec is how plugins run: libcni's default, made up front because
// libcni creates it lazily without a lock, which races when two pods are
// set up at once. Plugin stderr goes to the daemon's, as in containerd.
func pluginExec() invoke.Exec {
	return &invoke.DefaultExec{
		RawExec:       &invoke.RawExec{Stderr: os.Stderr},
		PluginDecoder: version.PluginDecoder{},
	}
}

// SetPodCIDR sets the pod range of the built-in network, from CRI's
// UpdateRuntimeConfig: one CIDR or an IPv4,IPv6 pair; "" returns to the
// default subnet. Pods set up before keep their addresses.
func (m *Manager) SetPodCIDR(cidr string) error {
	prefixes, err := ParsePodCIDRs(cidr)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := savePodCIDR(filepath.Join(m.stateDir, podCIDRFile), cidr); err != nil {
		return err
	}
	m.podCIDRs = prefixes
	return nil
}

// savePodCIDR replaces the saved pod CIDR atomically; "" removes it.
func savePodCIDR(path, cidr string) error {
	if cidr == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the saved pod CIDR: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving the pod CIDR: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(cidr+"\n"), 0o600); err != nil {
		return fmt.Errorf("saving the pod CIDR: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("saving the pod CIDR: %w", err)
	}
	return nil
}

// network is the network pods join now: conf_dir's, read again when it
// changes, else the built-in one.
func (m *Manager) network() (*network, error) {
	n, err := m.conf.get()
	if err != nil || n != nil {
		return n, err
	}
	if !builtinDefaultNetwork {
		return nil, &NotReadyError{Message: fmt.Sprintf("no CNI network configuration in %s", m.confDir)}
	}
	m.mu.RLock()
	cidrs := m.podCIDRs
	m.mu.RUnlock()
	b, err := defaultConfList(m.def, m.versions.builtinVersion(context.Background(), m.binDirs), cidrs)
	if err != nil {
		return nil, &NotReadyError{Message: fmt.Sprintf("built-in CNI network: %v", err)}
	}
	list, err := libcni.NetworkConfFromBytes(b)
	if err != nil {
		return nil, &NotReadyError{Message: fmt.Sprintf("built-in CNI network: %v", err)}
	}
	return &network{List: list, Source: SourceBuiltin}, nil
}

// Setup gives the pod its network namespace and joins it to the CNI
// network. A failure undoes what was done (CNI DEL, namespace removal)
// before the cause is returned. Host-network pods get an empty Result.
func (m *Manager) Setup(ctx context.Context, pod PodNetwork) (Result, error) {
	if err := validatePodID(pod.ID); err != nil {
		return Result{}, err
	}
	if pod.HostNetwork {
		return Result{}, nil
	}
	m.gcMu.RLock()
	defer m.gcMu.RUnlock()
	log := klog.FromContext(ctx).WithValues(logPod, pod.ID)
	// Bad input fails before anything is created.
	rt, err := runtimeConf(pod, "")
	if err != nil {
		return Result{}, err
	}
	// A network that is not ready fails the pod at once, with the reason
	// Status gives kubelet, rather than deep inside a plugin.
	n, err := m.ready()
	if err != nil {
		return Result{}, fmt.Errorf("pod network: %w", err)
	}
	for _, s := range n.Skipped {
		log.Info("Skipped invalid CNI network configuration", "file", s.File, "reason", s.Reason)
	}
	release, err := m.limit.Acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("pod network: %w", err)
	}
	defer release()
	nsPath, err := m.ns.Create(ctx, pod.ID)
	if err != nil {
		return Result{}, err
	}
	rt.NetNS = nsPath
	log = log.WithValues(logNetNS, nsPath, logNetwork, n.List.Name)
	if pod.NamespaceReady != nil {
		pod.NamespaceReady(nsPath)
	}

	res, err := m.cni.AddNetworkList(ctx, n.List, rt)
	var ips []netip.Addr
	if err == nil {
		ips, err = podIPs(res)
	}
	if err != nil {
		if !errdefs.IsUnavailable(err) {
			err = fmt.Errorf("%w: %w", err, errdefs.ErrUnavailable)
		}
		err = fmt.Errorf("CNI ADD of pod %s to network %q (%s): %w", pod.ID, n.List.Name, n.Source, err)
		m.undoSetup(ctx, n.List, rt)
		return Result{}, err
	}
	log.Info("Pod network set up", logSource, n.Source, logIPs, ips)
	return Result{NamespacePath: nsPath, IPs: ips}, nil
}

// undoSetup removes what a failed Setup left, on a fresh bounded context.
// Its own failures are logged, not returned: the caller reports the cause.
func (m *Manager) undoSetup(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) {
	log := klog.FromContext(ctx).WithValues(logPod, rt.ContainerID)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := m.cni.DelNetworkList(cctx, list, rt); err != nil {
		log.Error(err, "CNI DEL after a failed ADD", logNetwork, list.Name)
	}
	if err := m.ns.Remove(cctx, rt.ContainerID); err != nil {
		log.Error(err, "Removing the network namespace after a failed ADD")
	}
}

// Teardown detaches the pod from its CNI networks and removes its
// namespace. It succeeds when there is nothing (left) to tear down, so it
// may be repeated and may be used on a half set-up pod. DEL runs with the
// configuration and arguments libcni cached at ADD, so it reaches the
// plugins that set the pod up even when conf_dir changed since; for
// leftovers found by ListNamespaces, a PodNetwork with only ID suffices.
// A failed DEL keeps the namespace, so that a retry can run DEL again.
func (m *Manager) Teardown(ctx context.Context, pod PodNetwork) error {
	m.gcMu.RLock()
	defer m.gcMu.RUnlock()
	return m.teardown(ctx, pod, false)
}

// teardown runs DEL and removes the namespace; force removes the
// namespace also when DEL failed.
func (m *Manager) teardown(ctx context.Context, pod PodNetwork, force bool) error {
	if err := validatePodID(pod.ID); err != nil {
		return err
	}
	release, err := m.limit.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pod network teardown: %w", err)
	}
	defer release()
	log := klog.FromContext(ctx).WithValues(logPod, pod.ID)
	// The manager's own record, not pod.NamespacePath, says whether a
	// namespace is left: on a repeated Teardown the caller's path names
	// one that is gone.
	nsPath, err := m.ns.Path(pod.ID)
	if err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	atts, err := m.cni.GetCachedAttachments(pod.ID)
	if err != nil {
		return fmt.Errorf("CNI cache of pod %s: %v: %w", pod.ID, err, errdefs.ErrUnavailable)
	}
	var errs []error
	for _, att := range atts {
		if err := m.delAttachment(ctx, att, nsPath); err != nil {
			errs = append(errs, err)
		}
	}
	if len(atts) == 0 && nsPath != "" {
		// No cached result: ADD never finished (a crash). DEL with
		// today's network frees what a plugin may have allocated.
		if err := m.delUncached(ctx, pod, nsPath); err != nil {
			errs = append(errs, err)
		}
	}
	var delErr error
	if len(errs) > 0 {
		delErr = fmt.Errorf("CNI DEL of pod %s: %w: %w", pod.ID, errors.Join(errs...), errdefs.ErrUnavailable)
		if !force {
			return delErr
		}
	}
	// What a plugin left outside the namespace, before the namespace's
	// record goes with it.
	if sw, ok := m.ns.(sweeper); ok && force {
		if err := sw.Sweep(ctx, pod.ID); err != nil {
			return errors.Join(delErr, err)
		}
	}
	// Always: an entry that holds no namespace (a crash before it was
	// mounted) has no path but must go too.
	if err := m.ns.Remove(ctx, pod.ID); err != nil {
		return errors.Join(delErr, err)
	}
	if delErr != nil {
		return delErr
	}
	if len(atts) == 0 && nsPath == "" {
		log.V(4).Info("No pod network to tear down")
		return nil
	}
	log.Info("Pod network torn down", logNetNS, nsPath)
	return nil
}

func (m *Manager) delAttachment(ctx context.Context, att *libcni.NetworkAttachment, nsPath string) error {
	list, err := libcni.NetworkConfFromBytes(att.Config)
	if err != nil {
		return fmt.Errorf("cached configuration of network %q: %w", att.Network, err)
	}
	rt := &libcni.RuntimeConf{
		ContainerID:    att.ContainerID,
		NetNS:          nsPath,
		IfName:         att.IfName,
		Args:           att.CniArgs,
		CapabilityArgs: att.CapabilityArgs,
	}
	if err := m.cni.DelNetworkList(ctx, list, rt); err != nil {
		return fmt.Errorf("network %q: %w", att.Network, err)
	}
	return nil
}

func (m *Manager) delUncached(ctx context.Context, pod PodNetwork, nsPath string) error {
	n, err := m.network()
	if err != nil {
		// Nothing to run DEL with; the namespace still goes.
		klog.FromContext(ctx).V(2).Info("No CNI network for DEL of a half set-up pod", logPod, pod.ID, "reason", err.Error())
		return nil
	}
	rt, err := runtimeConf(pod, nsPath)
	if err != nil {
		// Bad port mappings or annotations cannot have reached ADD.
		rt = &libcni.RuntimeConf{ContainerID: pod.ID, NetNS: nsPath, IfName: podIfName, Args: cniArgs(pod)}
	}
	if err := m.cni.DelNetworkList(ctx, n.List, rt); err != nil {
		return fmt.Errorf("network %q: %w", n.List.Name, err)
	}
	return nil
}

// ListNamespaces returns, sorted, the IDs of the pods this manager holds
// network state for: a namespace, or a CNI attachment in libcni's cache.
// Startup recovery tears down (Teardown with the ID) those no known pod
// owns.
func (m *Manager) ListNamespaces() ([]string, error) {
	ids, err := m.ns.List()
	if err != nil {
		return nil, fmt.Errorf("list network namespaces: %v: %w", err, errdefs.ErrUnavailable)
	}
	atts, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return nil, fmt.Errorf("list CNI attachments: %v: %w", err, errdefs.ErrUnavailable)
	}
	seen := make(map[string]bool, len(ids)+len(atts))
	for _, id := range ids {
		seen[id] = true
	}
	for _, a := range atts {
		if !seen[a.ContainerID] && validID.MatchString(a.ContainerID) {
			seen[a.ContainerID] = true
			ids = append(ids, a.ContainerID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// RemoveNamespace cleans up a leftover that no pod owns: DEL from
// libcni's cache (which frees its addresses and port mappings), then the
// namespace. Unlike Teardown it removes the namespace also when DEL
// fails, since no kubelet retries for an unknown pod; the cache entry
// stays, so ListNamespaces offers the pod again at the next recovery.
func (m *Manager) RemoveNamespace(ctx context.Context, podID string) error {
	m.gcMu.RLock()
	defer m.gcMu.RUnlock()
	return m.teardown(ctx, PodNetwork{ID: podID}, true)
}
