package network

// Log field names, kept in one place so that log queries stay stable.
const (
	logPod     = "podID"
	logNetNS   = "netns"
	logNetwork = "network"
	logSource  = "source"
	logIPs     = "ips"
)
