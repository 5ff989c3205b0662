package isolation

import (
	"testing"

	"github.com/wincri/wincri/pkg/config"
)

// The builders run once per RunPodSandbox / CreateContainer; these
// benchmarks show their cost next to a shim round trip.

func BenchmarkBuildWindowsSandboxHyperV(b *testing.B) {
	h := Handler{Name: "hyperv", Isolation: config.IsolationHyperV, OS: OSWindows, UVMMemoryMB: 2048}
	in := WindowsSandbox{ID: testPodID, Config: kubeletPod(false, map[string]string{memAnnotation: "4096"}), Handler: h,
		NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildWindowsSandbox(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildWindowsContainer(b *testing.B) {
	in := WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: kubeletContainer(false), Image: iisImage,
		Pod: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Layers: appLayers}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildWindowsContainer(in); err != nil {
			b.Fatal(err)
		}
	}
}
