package network

import "github.com/wincri/wincri/pkg/logkeys"

// Log field names: a pod's network is logged under its pod sandbox's id.
const (
	logPod     = logkeys.PodSandboxID
	logNetNS   = logkeys.NetNS
	logNetwork = logkeys.Network
	logSource  = logkeys.Source
	logIPs     = logkeys.IPs
)
