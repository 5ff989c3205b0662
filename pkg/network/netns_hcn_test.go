package network

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeHCN behaves like the Host Network Service for namespaces and
// endpoints: ids are GUIDs it makes up, an endpoint is attached to at
// most one namespace, and a namespace with endpoints attached cannot be
// deleted (the stricter answer; wincri detaches first either way).
type fakeHCN struct {
	mu         sync.Mutex
	next       int
	namespaces map[string]bool
	endpoints  map[string]hcnEndpoint
}

func newFakeHCN() *fakeHCN {
	return &fakeHCN{namespaces: map[string]bool{}, endpoints: map[string]hcnEndpoint{}}
}

func (f *fakeHCN) guid() string {
	f.next++
	return fmt.Sprintf("%08x-0000-0000-0000-000000000000", f.next)
}

func (f *fakeHCN) CreateNamespace() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.guid()
	f.namespaces[id] = true
	return id, nil
}

func (f *fakeHCN) DeleteNamespace(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.namespaces[id] {
		return errHCNNotFound
	}
	for _, ep := range f.endpoints {
		if ep.Namespace == id {
			return fmt.Errorf("namespace %s has endpoint %s attached", id, ep.ID)
		}
	}
	delete(f.namespaces, id)
	return nil
}

func (f *fakeHCN) NamespaceEndpoints(nsID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.namespaces[nsID] {
		return nil, errHCNNotFound
	}
	var ids []string
	for _, ep := range f.endpoints {
		if ep.Namespace == nsID {
			ids = append(ids, ep.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (f *fakeHCN) Endpoints() ([]hcnEndpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]hcnEndpoint, 0, len(f.endpoints))
	for _, ep := range f.endpoints {
		out = append(out, ep)
	}
	return out, nil
}

func (f *fakeHCN) DeleteEndpoint(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.endpoints[id]; !ok {
		return errHCNNotFound
	}
	delete(f.endpoints, id)
	return nil
}

// createEndpoint is what a Windows CNI plugin's ADD does first: an
// endpoint named <container id>_<network> (containernetworking/plugins
// v1.10.0 pkg/hns/endpoint_windows.go, ConstructEndpointName).
func (f *fakeHCN) createEndpoint(podID, network string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.guid()
	f.endpoints[id] = hcnEndpoint{ID: id, Name: podID + "_" + network}
	return id
}

// attach is what the plugin's ADD does next.
func (f *fakeHCN) attach(epID, nsID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ep := f.endpoints[epID]
	ep.Namespace = nsID
	f.endpoints[epID] = ep
}

func (f *fakeHCN) objects() (namespaces, endpoints []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.namespaces {
		namespaces = append(namespaces, id)
	}
	for _, ep := range f.endpoints {
		endpoints = append(endpoints, ep.Name)
	}
	sort.Strings(namespaces)
	sort.Strings(endpoints)
	return namespaces, endpoints
}

// windowsManager is a manager whose namespaces are HCN namespaces on
// the fake HCN, and whose network is a Windows-like CNI configuration.
func windowsManager(t *testing.T) (testManager, *fakeHCN) {
	t.Helper()
	m := newTestManager(t, "sdnbridge")
	writeFiles(t, m.confDir, map[string]string{"10-sdn.conf": `{"cniVersion":"0.4.0","name":"cbr0","type":"sdnbridge"}`})
	hcn := newFakeHCN()
	m.Manager.ns = hcnNamespaces{nsDir: nsDir{dir: t.TempDir()}, hcn: hcn}
	return m, hcn
}

// After wincri dies at any point of a Windows pod's network setup or
// teardown, a GC after the restart leaves no namespace, no endpoint and
// no record of the pod, and touches nothing that is not wincri's.
func TestGCAfterCrashLeavesNoHNSObjects(t *testing.T) {
	tests := []struct {
		name string
		// crash sets the pod "gone" up as far as wincri got.
		crash func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces)
	}{
		{"before the namespace", func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces) {
			f, err := ns.reserve("gone", 0o600)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		{"after the namespace", func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces) {
			_, err := ns.Create(context.Background(), "gone")
			require.NoError(t, err)
		}},
		{"in ADD, endpoint not attached", func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces) {
			_, err := ns.Create(context.Background(), "gone")
			require.NoError(t, err)
			hcn.createEndpoint("gone", "cbr0")
		}},
		{"in ADD, endpoint attached, result not cached", func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces) {
			nsID, err := ns.Create(context.Background(), "gone")
			require.NoError(t, err)
			hcn.attach(hcn.createEndpoint("gone", "cbr0"), nsID)
		}},
		{"after ADD, DEL failing", func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces) {
			res, err := m.Setup(context.Background(), testPod("gone"))
			require.NoError(t, err)
			hcn.attach(hcn.createEndpoint("gone", "cbr0"), res.NamespacePath)
			m.cni.delErr = errors.New("sdnbridge: HNS call failed")
		}},
		{"in teardown, after DEL", func(t *testing.T, m testManager, hcn *fakeHCN, ns hcnNamespaces) {
			_, err := m.Setup(context.Background(), testPod("gone"))
			require.NoError(t, err)
			atts, err := m.cni.GetCachedAttachments("gone")
			require.NoError(t, err)
			require.NoError(t, m.delAttachment(context.Background(), atts[0], ""))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, hcn := windowsManager(t)
			ns := m.Manager.ns.(hcnNamespaces)
			ctx := context.Background()
			// A running pod, and what belongs to another runtime.
			keep, err := m.Setup(ctx, testPod("keep"))
			require.NoError(t, err)
			hcn.attach(hcn.createEndpoint("keep", "cbr0"), keep.NamespacePath)
			hcn.createEndpoint("containerd-pod", "cbr0")
			foreignNS, err := hcn.CreateNamespace()
			require.NoError(t, err)

			tt.crash(t, m, hcn, ns)
			err = m.GC(ctx, validPods("keep"))
			if m.cni.delErr != nil {
				require.ErrorContains(t, err, "HNS call failed", "a failed DEL is reported")
			} else {
				require.NoError(t, err)
			}

			namespaces, endpoints := hcn.objects()
			assert.ElementsMatch(t, []string{keep.NamespacePath, foreignNS}, namespaces)
			assert.Equal(t, []string{"containerd-pod_cbr0", "keep_cbr0"}, endpoints)
			ids, err := ns.List()
			require.NoError(t, err)
			assert.Equal(t, []string{"keep"}, ids, "no record of the gone pod")
		})
	}
}
