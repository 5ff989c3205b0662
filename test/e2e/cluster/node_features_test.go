//go:build linux

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRuntimeClasses: a pod of each configured handler runs; a pod whose
// RuntimeClass names a handler wincri does not have gets an event that
// names it.
func TestRuntimeClasses(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: %s-missing}
handler: no-such-handler
`, ns.name)
	pod := `apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  runtimeClassName: %s
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}
`
	ns.apply(pod, "with-process", "process", busyboxImage)
	ns.apply(pod, "with-missing", ns.name+"-missing", busyboxImage)
	t.Cleanup(func() { _, _ = ns.kubectl("delete", "runtimeclass", ns.name+"-missing") })
	ns.waitReady("with-process")

	var events string
	err := waitFor(time.Minute, "an event about the unknown handler", func() error {
		out, err := ns.kubectl("get", "events", "--field-selector", "involvedObject.name=with-missing", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
		events = out
		if err == nil && !strings.Contains(out, "no-such-handler") {
			err = fmt.Errorf("events so far: %q", out)
		}
		return err
	})
	require.NoError(t, err)
	assert.Contains(t, events, "FailedCreatePodSandBox")
	assert.Contains(t, events, "InvalidArgument")
}

// TestHostNetworkAndDNS: a hostNetwork pod sees the node's interfaces; a
// pod's DNS config and service account token reach its files.
func TestHostNetworkAndDNS(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  restartPolicy: Never
  containers:
  - {name: app, image: %[1]s, command: ["ls", "/sys/class/net"]}
---
apiVersion: v1
kind: Pod
metadata: {name: dns}
spec:
  restartPolicy: Never
  dnsPolicy: None
  dnsConfig:
    nameservers: ["10.96.0.53"]
    searches: ["wincri.test"]
    options: [{name: ndots, value: "2"}]
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "cat /etc/resolv.conf; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; hostname"]
`, busyboxImage)
	ns.waitPhase("hostnet", "Succeeded")
	out, err := ns.kubectl("logs", "hostnet")
	require.NoError(t, err)
	assert.Contains(t, strings.Fields(out), "node0", "a hostNetwork pod must see the node's interfaces")

	ns.waitPhase("dns", "Succeeded")
	out, err = ns.kubectl("logs", "dns")
	require.NoError(t, err)
	assert.Contains(t, out, "nameserver 10.96.0.53")
	assert.Contains(t, out, "search wincri.test")
	assert.Contains(t, out, "options ndots:2")
	assert.Contains(t, out, "\n"+ns.name+"\n", "the service account's namespace file")
	assert.True(t, strings.HasSuffix(out, "dns"), "the pod's hostname: %q", out)
}

// fsStats is a filesystem of kubelet's Summary API.
type fsStats struct {
	CapacityBytes  *uint64 `json:"capacityBytes"`
	AvailableBytes *uint64 `json:"availableBytes"`
	UsedBytes      *uint64 `json:"usedBytes"`
}

// summary is the part of kubelet's Summary API the tests read.
type summary struct {
	Node struct {
		Runtime struct {
			ImageFs     *fsStats `json:"imageFs"`
			ContainerFs *fsStats `json:"containerFs"`
		} `json:"runtime"`
	} `json:"node"`
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		Containers []struct {
			Name string `json:"name"`
			CPU  struct {
				UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
			Memory struct {
				WorkingSetBytes *uint64 `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"containers"`
	} `json:"pods"`
}

// checkSummary asserts that the Summary API shows CPU and memory for the
// container app of pod name in ns.
func checkSummary(n *node, ns, name string) error {
	out, err := n.kubectl(context.Background(), "", "get", "--raw", "/api/v1/nodes/"+nodeName+"/proxy/stats/summary")
	if err != nil {
		return err
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return err
	}
	// From ImageFsInfo: kubelet's image garbage collector fails on a
	// zero capacity ("invalid capacity 0 on image filesystem").
	for name, fs := range map[string]*fsStats{"imageFs": s.Node.Runtime.ImageFs, "containerFs": s.Node.Runtime.ContainerFs} {
		if fs == nil || fs.CapacityBytes == nil || *fs.CapacityBytes == 0 || fs.UsedBytes == nil || fs.AvailableBytes == nil {
			return fmt.Errorf("the node's runtime %s has no capacity, availability or usage: %+v", name, fs)
		}
	}
	for _, p := range s.Pods {
		if p.PodRef.Name != name || p.PodRef.Namespace != ns {
			continue
		}
		for _, c := range p.Containers {
			if c.Name != "app" {
				continue
			}
			if c.CPU.UsageCoreNanoSeconds == nil || *c.CPU.UsageCoreNanoSeconds == 0 {
				return fmt.Errorf("no CPU usage for %s/%s", ns, name)
			}
			if c.Memory.WorkingSetBytes == nil || *c.Memory.WorkingSetBytes == 0 {
				return fmt.Errorf("no memory working set for %s/%s", ns, name)
			}
			return nil
		}
		return fmt.Errorf("pod %s/%s has no container app in the summary", ns, name)
	}
	return fmt.Errorf("pod %s/%s is not in the summary", ns, name)
}

// TestSummaryAPI: the Summary API, read through the API server's node
// proxy, shows CPU and memory of a running pod.
func TestSummaryAPI(t *testing.T) {
	n := sharedCluster(t)
	ns := n.namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: busy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 1; done"]}
`, busyboxImage)
	ns.waitReady("busy")
	require.NoError(t, waitFor(90*time.Second, "CPU and memory in the Summary API", func() error {
		return checkSummary(n, ns.name, "busy")
	}))
}
