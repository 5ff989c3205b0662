package isolation

import (
	"context"
	"testing"
)

// BenchmarkLinuxContainerSpec measures building a typical container spec,
// including reading the image's /etc/passwd and /etc/group.
func BenchmarkLinuxContainerSpec(b *testing.B) {
	in := testContainerInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LinuxContainerSpec(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinuxSandboxSpec measures building a typical sandbox spec.
func BenchmarkLinuxSandboxSpec(b *testing.B) {
	in := testSandboxInput()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LinuxSandboxSpec(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
