//go:build !windows

package image

// HostPlatform describes the machine wincri runs on.
func HostPlatform() Host { return defaultHost() }
