//go:build linux

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pod is the part of a Pod object the tests read.
type pod struct {
	Metadata struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"metadata"`
	Status struct {
		Phase      string `json:"phase"`
		PodIP      string `json:"podIP"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		ContainerStatuses     []containerStatus `json:"containerStatuses"`
		InitContainerStatuses []containerStatus `json:"initContainerStatuses"`
	} `json:"status"`
}

type containerStatus struct {
	Name         string         `json:"name"`
	Ready        bool           `json:"ready"`
	Started      *bool          `json:"started"`
	RestartCount int            `json:"restartCount"`
	ContainerID  string         `json:"containerID"`
	State        containerState `json:"state"`
	LastState    containerState `json:"lastState"`
}

type containerState struct {
	Running *struct {
		StartedAt string `json:"startedAt"`
	} `json:"running"`
	Waiting *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"waiting"`
	Terminated *struct {
		ExitCode int    `json:"exitCode"`
		Reason   string `json:"reason"`
	} `json:"terminated"`
}

func (p *pod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

func (p *pod) container(name string) containerStatus {
	for _, c := range append(p.Status.ContainerStatuses, p.Status.InitContainerStatuses...) {
		if c.Name == name {
			return c
		}
	}
	return containerStatus{}
}

// kns is one test's namespace of the shared cluster; it is deleted, with
// everything in it, when the test ends.
type kns struct {
	t    *testing.T
	n    *node
	name string
	// accepted are complaints kubelet may log during this test only.
	accepted []acceptedKubeletComplaint
}

// acceptComplaints declares kubelet warnings or errors this test causes
// on purpose, each a regular expression, with the reason.
func (ns *kns) acceptComplaints(reason string, patterns ...string) {
	for _, p := range patterns {
		ns.accepted = append(ns.accepted, acceptedKubeletComplaint{regexp.MustCompile(p), reason})
	}
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// namespace creates a namespace named after the test and waits for its
// default service account, without which no pod is admitted.
func (n *node) namespace(t *testing.T) *kns {
	t.Helper()
	name := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 50 {
		name = name[:50]
	}
	ns := &kns{t: t, n: n, name: name}
	_, err := n.kubectl(context.Background(), "", "create", "namespace", name)
	require.NoError(t, err)
	logFrom := logSize(n.kubelet)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := ns.kubectl("get", "events", "--sort-by", ".lastTimestamp")
			t.Logf("events of %s:\n%s", name, out)
		}
		_, err := n.kubectl(context.Background(), "", "delete", "namespace", name, "--timeout", "90s")
		if err != nil {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
		// What kubelet logged during the test, deletion included.
		assertNoRuntimeComplaintsSince(t, n.kubelet, logFrom, ns.accepted...)
	})
	require.NoError(t, waitFor(time.Minute, "the namespace's default service account", func() error {
		_, err := ns.kubectl("get", "serviceaccount", "default")
		return err
	}))
	return ns
}

// kubectl runs kubectl in the namespace.
func (ns *kns) kubectl(args ...string) (string, error) {
	return ns.n.kubectl(context.Background(), "", append([]string{"-n", ns.name}, args...)...)
}

// kubectlCtx runs kubectl in the namespace, bounded by ctx.
func (ns *kns) kubectlCtx(ctx context.Context, args ...string) (string, error) {
	return ns.n.kubectl(ctx, "", append([]string{"-n", ns.name}, args...)...)
}

// apply applies a manifest (fmt.Sprintf of format and args) in the
// namespace.
func (ns *kns) apply(format string, args ...any) {
	ns.t.Helper()
	_, err := ns.n.kubectl(context.Background(), fmt.Sprintf(format, args...), "-n", ns.name, "apply", "-f", "-")
	require.NoError(ns.t, err)
}

// pod reads a pod's current object.
func (ns *kns) pod(name string) (*pod, error) {
	out, err := ns.kubectl("get", "pod", name, "-o", "json")
	if err != nil {
		return nil, err
	}
	var p pod
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return nil, fmt.Errorf("decoding pod %s: %w", name, err)
	}
	return &p, nil
}

// waitPod waits until check accepts the pod and returns it; on a timeout
// the test fails with the pod's last status and the node's logs.
func (ns *kns) waitPod(name string, timeout time.Duration, what string, check func(*pod) error) *pod {
	ns.t.Helper()
	var last *pod
	err := waitFor(timeout, "pod "+name+" "+what, func() error {
		p, err := ns.pod(name)
		if err != nil {
			return err
		}
		last = p
		return check(p)
	})
	if err != nil {
		status, _ := json.MarshalIndent(last, "", "  ")
		ns.t.Fatalf("%v\nlast status: %s\n%s", err, status, ns.n.componentTails())
	}
	return last
}

// waitReady waits for the pod's Ready condition.
func (ns *kns) waitReady(name string) *pod {
	ns.t.Helper()
	return ns.waitPod(name, 2*time.Minute, "to be Ready", func(p *pod) error {
		if !p.ready() {
			return fmt.Errorf("phase %s, not ready", p.Status.Phase)
		}
		return nil
	})
}

// waitPhase waits for the pod's phase.
func (ns *kns) waitPhase(name, phase string) *pod {
	ns.t.Helper()
	return ns.waitPod(name, 2*time.Minute, "to reach phase "+phase, func(p *pod) error {
		if p.Status.Phase != phase {
			return fmt.Errorf("phase is %s", p.Status.Phase)
		}
		return nil
	})
}
