//go:build !windows

package config

// DefaultPaths returns the daemon's default locations on Linux.
func DefaultPaths() Paths {
	return Paths{
		Root:   "/var/lib/wincri",
		State:  "/run/wincri",
		Listen: "unix:///run/wincri/wincri.sock",
		Config: "/etc/wincri/config.toml",
	}
}

func defaultRuntimeName() string { return "process" }

func defaultRuntimes() map[string]Runtime {
	return map[string]Runtime{
		"process": {Shim: "containerd-shim-runc-v2", Isolation: IsolationProcess},
	}
}

func defaultCNI() CNI {
	return CNI{BinDirs: []string{"/opt/cni/bin", "/usr/lib/cni"}, ConfDir: "/etc/cni/net.d"}
}

// defaultSandboxImage is "": Linux pods run wincri's own pause process.
func defaultSandboxImage() string { return "" }
