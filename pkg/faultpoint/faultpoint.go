// Package faultpoint is a test-only crash injector. Crash-safety tests
// start wincri with WINCRI_FAULTPOINT set to the name of one point; when
// execution reaches that point the process dies on the spot, as it would
// under SIGKILL or a power cut, so that the tests can check what a
// restart recovers.
//
// Without the environment variable a Hit costs one string comparison.
package faultpoint

import (
	"context"
	"os"

	"k8s.io/klog/v2"
)

// EnvVar names the fault point at which the process kills itself.
const EnvVar = "WINCRI_FAULTPOINT"

// Names of the points placed in wincri, between the side effects of the
// operations whose crash safety the tests check.
const (
	PodBeforeNetworkRecord  = "pod-before-network-record"
	PodAfterNetwork         = "pod-after-network"
	PodAfterShimLaunch      = "pod-after-shim-launch"
	PodAfterTaskCreate      = "pod-after-task-create"
	ContainerAfterRootfs    = "container-after-rootfs"
	ContainerAfterSpec      = "container-after-spec"
	ContainerAfterTask      = "container-after-task-create"
	ContainerAfterStopKill  = "container-after-stop-signal"
	ContainerAfterDelete    = "container-after-task-delete"
	PodAfterNetworkTeardown = "pod-after-network-teardown"
	PodStopBeforeTeardown   = "pod-stop-before-network-teardown"
	PodStopAfterTeardown    = "pod-stop-after-network-teardown"
	PullMidDownload         = "pull-mid-download"
	PullAfterContent        = "pull-after-content"
	PullBeforeRecord        = "pull-before-record"
)

// armed is read once: the environment of a running daemon does not
// change, and Hit sits on hot paths.
var armed = os.Getenv(EnvVar)

// Hit kills the process when name is the armed fault point.
func Hit(ctx context.Context, name string) {
	if armed == "" || armed != name {
		return
	}
	klog.FromContext(ctx).Info("Fault point reached; killing the process", "faultPoint", name)
	klog.Flush()
	die()
}

// Armed returns the armed fault point, "" when none is.
func Armed() string { return armed }
