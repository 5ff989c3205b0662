package isolation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPassthroughAnnotations pins containerd v2.4.2's matching
// (internal/cri/util/util.go, GetPassthroughAnnotations): path.Match
// patterns, so "*" does not cross "/" and a backslash escapes.
func TestPassthroughAnnotations(t *testing.T) {
	in := map[string]string{
		"io.microsoft.virtualmachine.computetopology.memory.sizeinmb": "2048",
		"io.microsoft.virtualmachine.wcow.virtualSMB":                 "false",
		"io.microsoft.container.storage.qos.iopsmaximum":              "500",
		"example.com/team":  "a",
		"example.com/sub/x": "b",
	}
	tests := []struct {
		name     string
		patterns []string
		want     map[string]string
	}{
		{name: "none", patterns: []string{}, want: map[string]string{}},
		{name: "virtual machine", patterns: []string{"io.microsoft.virtualmachine.*"}, want: map[string]string{
			"io.microsoft.virtualmachine.computetopology.memory.sizeinmb": "2048",
			"io.microsoft.virtualmachine.wcow.virtualSMB":                 "false",
		}},
		{name: "exact key", patterns: []string{"example.com/team"}, want: map[string]string{"example.com/team": "a"}},
		{name: "star stops at a slash", patterns: []string{"example.com/*"}, want: map[string]string{"example.com/team": "a"}},
		{name: "two patterns", patterns: []string{"io.microsoft.container.*", "example.com/sub/*"}, want: map[string]string{
			"io.microsoft.container.storage.qos.iopsmaximum": "500",
			"example.com/sub/x": "b",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, passthrough(in, tt.patterns))
		})
	}
}

// Pod annotations on the allow-list reach the sandbox's and every
// container's spec, container annotations the container's; wincri's own
// annotations win over a passed one of the same key (as containerd adds
// its own after the passthrough ones).
func TestWindowsSpecsCarryAllowedAnnotations(t *testing.T) {
	h := winHyperVHandler
	h.PodAnnotations = []string{"io.microsoft.virtualmachine.*", "io.kubernetes.cri.*"}
	h.ContainerAnnotations = []string{"io.microsoft.container.*"}
	pod := kubeletPod(false, map[string]string{
		"io.microsoft.virtualmachine.wcow.virtualSMB": "false",
		"io.kubernetes.cri.sandbox-id":                "forged",
		"example.com/other":                           "x",
	})
	sb, err := BuildWindowsSandbox(WindowsSandbox{ID: testPodID, Config: pod, Handler: h, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers})
	require.NoError(t, err)
	assert.Equal(t, "false", sb.Spec.Annotations["io.microsoft.virtualmachine.wcow.virtualSMB"])
	assert.Equal(t, testPodID, sb.Spec.Annotations["io.kubernetes.cri.sandbox-id"])
	assert.NotContains(t, sb.Spec.Annotations, "example.com/other")

	c := kubeletContainer(false)
	c.Annotations = map[string]string{"io.microsoft.container.storage.qos.iopsmaximum": "500", "example.com/c": "y"}
	ctr, err := BuildWindowsContainer(WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: c, Image: iisImage,
		Pod: pod, Handler: h, NetworkNamespace: testNetNS, Layers: appLayers})
	require.NoError(t, err)
	assert.Equal(t, "false", ctr.Spec.Annotations["io.microsoft.virtualmachine.wcow.virtualSMB"])
	assert.Equal(t, "500", ctr.Spec.Annotations["io.microsoft.container.storage.qos.iopsmaximum"])
	assert.Equal(t, testPodID, ctr.Spec.Annotations["io.kubernetes.cri.sandbox-id"])
	assert.NotContains(t, ctr.Spec.Annotations, "example.com/c")

	// A container annotation is not a pod annotation: the pod list does
	// not let it through.
	c.Annotations = map[string]string{"io.microsoft.virtualmachine.wcow.virtualSMB": "true"}
	ctr, err = BuildWindowsContainer(WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: c, Image: iisImage,
		Pod: pod, Handler: h, NetworkNamespace: testNetNS, Layers: appLayers})
	require.NoError(t, err)
	assert.Equal(t, "false", ctr.Spec.Annotations["io.microsoft.virtualmachine.wcow.virtualSMB"])
}
