package config

import "golang.org/x/sys/windows"

// DefaultPaths returns the daemon's default locations on Windows.
func DefaultPaths() Paths {
	return Paths{
		Root:   `C:\ProgramData\wincri\root`,
		State:  `C:\ProgramData\wincri\state`,
		Listen: "npipe:////./pipe/wincri",
		Config: `C:\ProgramData\wincri\config.toml`,
	}
}

// defaultRuntimeName follows the host SKU: Windows Server shares its
// kernel by default, client Windows isolates each pod in a utility VM.
func defaultRuntimeName() string {
	return defaultHandlerForProductType(windows.RtlGetVersion().ProductType)
}

func defaultRuntimes() map[string]Runtime { return windowsRuntimes() }

func defaultCNI() CNI { return windowsCNI() }

func defaultSandboxImage() string { return WindowsSandboxImage }
