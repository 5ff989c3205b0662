package sandbox

// The pod files isolation.WriteSandboxFiles writes into a pod's bundle,
// which its containers bind-mount.
const (
	hostnameFile   = "hostname"
	hostsFile      = "hosts"
	resolvConfFile = "resolv.conf"
	shmDir         = "shm"
)
