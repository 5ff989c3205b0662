package network

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
)

// fakeNamespaces keeps namespaces in memory.
type fakeNamespaces struct {
	mu        sync.Mutex
	pods      map[string]string
	createErr error
	removeErr error
}

func newFakeNamespaces() *fakeNamespaces { return &fakeNamespaces{pods: map[string]string{}} }

func (f *fakeNamespaces) Create(_ context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.createErr != nil {
		return "", f.createErr
	}
	if _, ok := f.pods[id]; ok {
		return "", fmt.Errorf("pod %s: %w", id, errdefs.ErrAlreadyExists)
	}
	f.pods[id] = "/fake/netns/" + id
	return f.pods[id], nil
}

func (f *fakeNamespaces) Path(id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pods[id]
	if !ok {
		return "", errdefs.ErrNotFound
	}
	return p, nil
}

func (f *fakeNamespaces) Remove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removeErr != nil {
		return f.removeErr
	}
	delete(f.pods, id)
	return nil
}

func (f *fakeNamespaces) List() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.pods {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// cniCall is one ADD, DEL or GC the fake saw.
type cniCall struct {
	Op string
	// Valid are the attachments a GC keeps, "pod/ifname".
	Valid   []string
	Network string
	Pod     string
	NetNS   string
	Args    [][2]string
	Caps    map[string]any
}

// fakeCNI answers ADD with one address per pod and keeps a cache like
// libcni's: written on a successful ADD, removed on a successful DEL.
type fakeCNI struct {
	mu     sync.Mutex
	calls  []cniCall
	addErr error
	delErr error
	// checkErr, when set, is what CHECK answers.
	checkErr error
	// addBlock, when set, holds every ADD until it is closed.
	addBlock chan struct{}
	cache    map[string]*libcni.NetworkAttachment
	next     int
}

func newFakeCNI() *fakeCNI { return &fakeCNI{cache: map[string]*libcni.NetworkAttachment{}} }

func (f *fakeCNI) AddNetworkList(_ context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) (types.Result, error) {
	if f.addBlock != nil {
		<-f.addBlock
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, cniCall{Op: "ADD", Network: list.Name, Pod: rt.ContainerID, NetNS: rt.NetNS, Args: rt.Args, Caps: rt.CapabilityArgs})
	if f.addErr != nil {
		return nil, f.addErr
	}
	f.next++
	f.cache[rt.ContainerID] = &libcni.NetworkAttachment{
		ContainerID: rt.ContainerID, Network: list.Name, IfName: rt.IfName, Config: list.Bytes,
		NetNS: rt.NetNS, CniArgs: rt.Args, CapabilityArgs: rt.CapabilityArgs,
	}
	idx := 0
	return &current.Result{
		CNIVersion: "1.0.0",
		Interfaces: []*current.Interface{{Name: rt.IfName, Sandbox: rt.NetNS}},
		IPs:        []*current.IPConfig{ipConfNoT(fmt.Sprintf("10.88.0.%d/16", f.next+1), &idx)},
	}, nil
}

func (f *fakeCNI) DelNetworkList(_ context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, cniCall{Op: "DEL", Network: list.Name, Pod: rt.ContainerID, NetNS: rt.NetNS, Args: rt.Args, Caps: rt.CapabilityArgs})
	if f.delErr != nil {
		return f.delErr
	}
	delete(f.cache, rt.ContainerID)
	return nil
}

// CheckNetworkList answers checkErr, as libcni for a version without
// CHECK, and records the call.
func (f *fakeCNI) CheckNetworkList(_ context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, cniCall{Op: "CHECK", Network: list.Name, Pod: rt.ContainerID, NetNS: rt.NetNS})
	if gt, _ := version.GreaterThanOrEqualTo(list.CNIVersion, "0.4.0"); !gt {
		return fmt.Errorf("configuration version %q %w", list.CNIVersion, libcni.ErrorCheckNotSupp)
	}
	return f.checkErr
}

// GCNetworkList records the GC; as libcni's, a cached attachment not
// listed gets a DEL first.
func (f *fakeCNI) GCNetworkList(ctx context.Context, list *libcni.NetworkConfigList, args *libcni.GCArgs) error {
	valid := map[string]bool{}
	var names []string
	for _, a := range args.ValidAttachments {
		valid[a.ContainerID+"/"+a.IfName] = true
		names = append(names, a.ContainerID+"/"+a.IfName)
	}
	sort.Strings(names)
	f.mu.Lock()
	var stale []*libcni.NetworkAttachment
	for _, a := range f.cache {
		if a.Network == list.Name && !valid[a.ContainerID+"/"+a.IfName] {
			stale = append(stale, a)
		}
	}
	f.calls = append(f.calls, cniCall{Op: "GC", Network: list.Name, Valid: names})
	f.mu.Unlock()
	for _, a := range stale {
		if err := f.DelNetworkList(ctx, list, &libcni.RuntimeConf{ContainerID: a.ContainerID, NetNS: a.NetNS, IfName: a.IfName}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeCNI) GetCachedAttachments(id string) ([]*libcni.NetworkAttachment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*libcni.NetworkAttachment
	for cid, a := range f.cache {
		if id == "" || cid == id {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeCNI) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []string
	for _, c := range f.calls {
		ops = append(ops, c.Op+" "+c.Pod)
	}
	return ops
}

// ids lists the pods with a namespace, sorted.
func (f *fakeNamespaces) ids() []string {
	ids, _ := f.List()
	return ids
}
