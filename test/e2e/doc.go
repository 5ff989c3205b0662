// Package e2e holds wincri's end-to-end tests: they build the wincri and
// wincri-logger binaries, serve test images from a registry on loopback,
// and drive the daemon over CRI gRPC with the real runc shim, as kubelet
// and crictl do. The tests need root, runc, containerd-shim-runc-v2 and
// the CNI plugins; outside CI they skip when one is missing.
//
// The tests are Linux-only: they drive runc through its shim.
// Run them with `go test ./test/e2e`; `-short` leaves out the 200-pod
// churn test.
package e2e
