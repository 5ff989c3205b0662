// Package version reports wincri's own version from the Go build info.
package version

import (
	"runtime/debug"
)

// Name is the runtime name reported to kubelet and crictl.
const Name = "wincri"

// Version is the module version wincri was built as: the module version
// for a released build, else the VCS revision (with "-dirty" for a
// modified tree), else "(devel)".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return fromBuildInfo(info)
}

func fromBuildInfo(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "0.0.0-" + rev
	if modified == "true" {
		v += "-dirty"
	}
	return v
}

// hcsshimModule provides containerd-shim-runhcs-v1, the Windows shim.
const hcsshimModule = "github.com/Microsoft/hcsshim"

// ShimVersion is the hcsshim version wincri is built and tested against:
// a node should run the containerd-shim-runhcs-v1 of that release.
// "(unknown)" without build information.
func ShimVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return shimFromBuildInfo(info)
}

func shimFromBuildInfo(info *debug.BuildInfo) string {
	if v := DepVersion(info, hcsshimModule); v != "" {
		return v
	}
	return "(unknown)"
}

// DepVersion is the version of a dependency module in a build's
// information, its replacement's when replaced; "" when it is not one.
func DepVersion(info *debug.BuildInfo, module string) string {
	for _, d := range info.Deps {
		if d.Path != module {
			continue
		}
		if d.Replace != nil {
			return d.Replace.Version
		}
		return d.Version
	}
	return ""
}
