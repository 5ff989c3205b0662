//go:build !windows

package network

// hostNetworks is nil off Windows: CNI plugins create what they need.
func hostNetworks() hnsNetworks { return nil }
