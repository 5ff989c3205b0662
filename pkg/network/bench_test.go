package network

import "testing"

// BenchmarkStatus measures what kubelet's Status poll (every few seconds)
// costs: reading conf_dir, building the built-in network and finding its
// four plugin binaries.
func BenchmarkStatus(b *testing.B) {
	m := newTestManager(b, "bridge", "host-local", "portmap", "loopback")
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Status(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusConfDir is the same with the network read from a
// conflist in conf_dir.
func BenchmarkStatusConfDir(b *testing.B) {
	m := newTestManager(b, "bridge", "portmap")
	writeFiles(b, m.confDir, map[string]string{"10-net.conflist": sprintf(validConflist, "mynet")})
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Status(); err != nil {
			b.Fatal(err)
		}
	}
}
