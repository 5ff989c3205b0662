//go:build linux

package cluster

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// acceptedKubeletComplaint is a warning or error kubelet logs about the
// host or the test set-up, not about the runtime, with the reason it is
// accepted. Anything else kubelet logs at warning or error level is a
// runtime defect.
type acceptedKubeletComplaint struct {
	re     *regexp.Regexp
	reason string
}

var acceptedKubeletComplaints = []acceptedKubeletComplaint{
	{regexp.MustCompile(`kubeclient not set, assuming standalone kubelet|Skipping CSINode initialization, kubelet running in standalone mode`),
		"the standalone kubelet test runs without an API server on purpose"},
	{regexp.MustCompile(`"Failed to set rlimit on max file handles" err="operation not permitted"`),
		"host: the machine's sandbox does not let root raise the file limit"},
	{regexp.MustCompile(`"Failed to ensure process in container with oom score" err="failed to find pid namespace of init process"`),
		"host: kubelet's own process is not in the init process's pid namespace here"},
	{regexp.MustCompile(`"Failed to read data from checkpoint" err="checkpoint is not found"`),
		"kubelet's first start on a fresh root directory"},
	{regexp.MustCompile(`failed to check if we have separate container filesystem. Ignoring." err="no imagefs label for configured runtime"`),
		"kubelet asks cAdvisor, which knows image filesystem labels only for cri-o (pkg/kubelet/cadvisor/helpers_linux.go); containerd nodes log it too"},
	{regexp.MustCompile(`"Skipping pod synchronization" err="\[?(container runtime status check may not have completed yet, )?PLEG is not healthy: pleg has yet to be successful\]?"`),
		"kubelet's start-up, before its first relist and its first runtime status check (pkg/kubelet/runtime.go, runtimeErrors); logged on every runtime"},
	{regexp.MustCompile(`"PodSandbox from runtime service failed" err="rpc error: code = InvalidArgument desc = pod_sandbox_id must not be empty`),
		"kubelet probes PodSandboxStats(\"\") at start (cmd/kubelet/app/server.go) and logs any answer but success; containerd's NotFound is logged the same"},
	{regexp.MustCompile(`nodes? \\?"wincri-node\\?" not found|Unable to register mirror pod because node is not registered yet`),
		"kubelet's start-up in a cluster, before the node is registered"},
	{regexp.MustCompile(`"Version from runtime service failed" err="rpc error: code = Canceled desc = context canceled"`),
		"kubelet cancels its own node-status call at times (the call never reaches wincri, whose log has no such request)"},
	{regexp.MustCompile(`"ExecSync cmd from runtime service failed" err="rpc error: code = FailedPrecondition desc = container [0-9a-f]+ (is exited, not running|stopped while the exec was starting|is gone)`),
		"a probe kubelet starts while the container is being stopped; kubelet logs any ExecSync failure, on containerd too"},
	{regexp.MustCompile(`"Partial failure issuing cadvisor.ContainerInfoV2" err="partial failures: .*unable to find data in memory cache`),
		"cAdvisor has not yet sampled a container created moments before (kubelet's cadvisor stats path); any runtime under churn"},
	{regexp.MustCompile(`"failed to receive streaming container event" err="rpc error: code = Canceled desc = context canceled"`),
		"kubelet cancels its own GetContainerEvents stream (evented PLEG) when it stops"},
	// Complaints the cluster tests cause on purpose.
	{regexp.MustCompile(`"ExecSync cmd from runtime service failed" err="rpc error: code = DeadlineExceeded desc = command \[\\"sleep\\" \\"4242\\"\] timed out`),
		"TestExecProbeTimeoutLeavesNoProcess: a probe that times out"},
	{regexp.MustCompile(`no-such-handler|runtimeclass.node.k8s.io \\"testruntimeclasses-missing\\" not found|testruntimeclasses-missing`),
		"TestRuntimeClasses: a pod naming a handler wincri does not have"},
	{regexp.MustCompile(`CrashLoopBackOff: \\"back-off \d+s restarting failed container=app pod=(unhealthy|always-fails)_`),
		"TestFailingLivenessProbeRestarts and TestRestartPolicies: containers that fail on purpose"},
	{regexp.MustCompile(`websocket: close 1006 \(abnormal closure\)|"Error on socket receive" err="read tcp [0-9.:]+->[0-9.:]+: use of closed network connection"`),
		"TestKubectlStreaming kills kubectl attach and port-forward when done"},
	{regexp.MustCompile(`User \\"system:node:wincri-node\\" cannot get resource \\"pods\\" in API group \\"\\" in the namespace \\"test[a-z]+\\": node: no relationship found`),
		"kubelet updates the status of a pod whose namespace a test just deleted; the Node authorizer no longer relates them"},
	{regexp.MustCompile(`unable to create new content in namespace test[a-z]+ because it is being terminated|kube-api-access-[a-z0-9]+ podName`),
		"a test's namespace is deleted while kubelet still prepares a pod's token volume"},
	{regexp.MustCompile(`empty_dir\.go:\d+\] Unmount skipped because path does not exist: .*/volumes/kubernetes\.io~(projected|empty-dir)/`),
		"kubelet's volume manager tears down a pod's projected or emptyDir volume a second time after its directory went with the pod (pkg/volume/emptydir/empty_dir.go, TearDownAt); seen under churn, on any runtime"},
	{regexp.MustCompile(`helpers\.go:\d+\] readString: Failed to read "/sys/fs/cgroup/[^"]+": read /sys/fs/cgroup/[^:]+: no such device`),
		"kubelet's cAdvisor reads a cgroup file of a container whose cgroup is being removed (github.com/google/cadvisor/lib container/common/helpers.go, readString, warns and goes on); seen under churn, on any runtime"},
}

// containerStatusNotFound matches kubelet's error for a ContainerStatus
// answered NotFound, capturing the container id.
var containerStatusNotFound = regexp.MustCompile(`"ContainerStatus from runtime service failed" err="rpc error: code = NotFound desc = container \\"([0-9a-f]{64})\\" not found"`)

// removedBefore reports whether kubelet asked the runtime to remove the
// container before this line: kubelet removes a dead container twice (its
// pod sync, then pod_container_deletor), and the second attempt's
// ContainerStatus finds it gone, on containerd too.
func removedBefore(log, id string, at int) bool {
	return strings.Contains(log[:at], `"RemoveContainer" containerID="`+id+`"`)
}

// klogSeverity matches the header of a klog line: severity, date, time.
var klogSeverity = regexp.MustCompile(`^([EW])\d{4} \d\d:\d\d:\d\d\.\d+`)

// runtimeComplaints returns the warning and error lines of a kubelet log
// that no accepted complaint explains.
func runtimeComplaints(log string, accepted []acceptedKubeletComplaint) []string {
	return runtimeComplaintsSince(log, 0, accepted)
}

// runtimeComplaintsSince is runtimeComplaints for the lines from byte
// offset from on.
func runtimeComplaintsSince(log string, from int, accepted []acceptedKubeletComplaint) []string {
	var out []string
	offset := 0
	for _, line := range strings.Split(log, "\n") {
		at := offset
		offset += len(line) + 1
		if at < from || !klogSeverity.MatchString(line) {
			continue
		}
		if m := containerStatusNotFound.FindStringSubmatch(line); m != nil && removedBefore(log, m[1], at) {
			continue
		}
		explained := false
		for _, a := range accepted {
			if a.re.MatchString(line) {
				explained = true
				break
			}
		}
		if !explained {
			out = append(out, line)
		}
	}
	return out
}

// assertNoRuntimeComplaints fails the test for every warning or error in
// kubelet's log that acceptedKubeletComplaints does not explain.
func assertNoRuntimeComplaints(t *testing.T, kubelet *component) {
	t.Helper()
	assertNoRuntimeComplaintsSince(t, kubelet, 0)
}

// assertNoRuntimeComplaintsSince checks the lines kubelet logged from byte
// offset from on (see logSize).
func assertNoRuntimeComplaintsSince(t *testing.T, kubelet *component, from int, extra ...acceptedKubeletComplaint) {
	t.Helper()
	data, err := os.ReadFile(kubelet.log)
	if err != nil {
		t.Errorf("reading kubelet's log: %v", err)
		return
	}
	accepted := append(append([]acceptedKubeletComplaint(nil), acceptedKubeletComplaints...), extra...)
	for _, line := range runtimeComplaintsSince(string(data), from, accepted) {
		t.Errorf("kubelet complained: %s", line)
	}
}

// logSize is the current size of a component's log.
func logSize(c *component) int {
	fi, err := os.Stat(c.log)
	if err != nil {
		return 0
	}
	return int(fi.Size())
}

func TestRuntimeComplaints(t *testing.T) {
	accepted := []acceptedKubeletComplaint{{regexp.MustCompile(`cgroup v1`), "host"}}
	log := strings.Join([]string{
		`I1205 21:00:00.000001    1 server.go:1] "Starting"`,
		`W1205 21:00:00.000002    1 server.go:2] "cgroup v1 support is in maintenance mode"`,
		`E1205 21:00:00.000003    1 kuberuntime_manager.go:3] "Failed to get the runtime version"`,
		`  a continuation line`,
		`I1205 21:00:00.000004    1 scope.go:118] "RemoveContainer" containerID="` + strings.Repeat("a", 64) + `"`,
		`E1205 21:00:00.000005    1 remote_runtime.go:657] "ContainerStatus from runtime service failed" err="rpc error: code = NotFound desc = container \"` + strings.Repeat("a", 64) + `\" not found"`,
		`E1205 21:00:00.000006    1 remote_runtime.go:657] "ContainerStatus from runtime service failed" err="rpc error: code = NotFound desc = container \"` + strings.Repeat("b", 64) + `\" not found"`,
	}, "\n")
	got := runtimeComplaints(log, accepted)
	if len(got) != 2 || !strings.Contains(got[0], "runtime version") || !strings.Contains(got[1], strings.Repeat("b", 64)) {
		t.Fatalf("complaints = %q, want the runtime version error and the status of a container never removed", got)
	}
}

// TestKubeletStartupComplaintsAccepted pins lines kubelet logs at every
// start, on any runtime, as accepted.
func TestKubeletStartupComplaintsAccepted(t *testing.T) {
	for _, line := range []string{
		`E1205 23:52:56.688979    6531 kubelet.go:2697] "Skipping pod synchronization" err="PLEG is not healthy: pleg has yet to be successful"`,
		`E1205 23:52:56.688979    6531 kubelet.go:2697] "Skipping pod synchronization" err="[container runtime status check may not have completed yet, PLEG is not healthy: pleg has yet to be successful]"`,
	} {
		if got := runtimeComplaints(line, acceptedKubeletComplaints); len(got) != 0 {
			t.Errorf("start-up line not accepted: %s", line)
		}
	}
	rejected := `E1205 23:52:56.688979    6531 kubelet.go:2697] "Skipping pod synchronization" err="container runtime is down"`
	if got := runtimeComplaints(rejected, acceptedKubeletComplaints); len(got) != 1 {
		t.Errorf("a runtime that is down must not be accepted: %q", got)
	}
}

// TestChurnVolumeTeardownAccepted pins the second teardown of a gone
// pod's volume (CI, TestChurn) as accepted, and a failed unmount as not.
func TestChurnVolumeTeardownAccepted(t *testing.T) {
	accepted := `W1206 03:54:03.134398   23389 empty_dir.go:533] Unmount skipped because path does not exist: /tmp/wkc-1066653002/kubelet/pods/5bd6c298-a9a1-4b45-a3f8-b978ac7e427c/volumes/kubernetes.io~projected/kube-api-access-jh2lb`
	if got := runtimeComplaints(accepted, acceptedKubeletComplaints); len(got) != 0 {
		t.Errorf("volume teardown line not accepted: %s", accepted)
	}
	rejected := `E1206 03:54:03.134398   23389 empty_dir.go:540] "Unmount failed" err="device or resource busy" path="/tmp/wkc/kubelet/pods/x/volumes/kubernetes.io~empty-dir/data"`
	if got := runtimeComplaints(rejected, acceptedKubeletComplaints); len(got) != 1 {
		t.Errorf("a failed unmount must not be accepted: %q", got)
	}
}

// TestChurnCgroupReadRaceAccepted pins cAdvisor's read of a cgroup being
// removed (CI, TestChurn) as accepted.
func TestChurnCgroupReadRaceAccepted(t *testing.T) {
	accepted := `W1206 06:50:20.371081   14868 helpers.go:247] readString: Failed to read "/sys/fs/cgroup/cpu/e1b9e4a863d95ab60e1a9c035b211566bc7768fed414da2dc6dd1f6601f9a592/cpu.shares": read /sys/fs/cgroup/cpu/e1b9e4a863d95ab60e1a9c035b211566bc7768fed414da2dc6dd1f6601f9a592/cpu.shares: no such device`
	if got := runtimeComplaints(accepted, acceptedKubeletComplaints); len(got) != 0 {
		t.Errorf("cgroup read race not accepted: %s", accepted)
	}
	rejected := `W1206 06:50:20.371081   14868 helpers.go:247] readString: Failed to read "/var/lib/kubelet/x": permission denied`
	if got := runtimeComplaints(rejected, acceptedKubeletComplaints); len(got) != 1 {
		t.Errorf("another read failure must not be accepted: %q", got)
	}
}
