package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// runhcsMain is the package of containerd-shim-runhcs-v1.
const runhcsMain = hcsshimModule + "/cmd/containerd-shim-runhcs-v1"

// ShimBinaryVersion reads, from the Go build information of the shim
// executable at path, the hcsshim release it was built from. It is ""
// for a development build that records no release.
func ShimBinaryVersion(path string) (string, error) {
	info, err := readBuildInfo(path)
	if err != nil {
		return "", fmt.Errorf("reading the build information of %s: %w", path, err)
	}
	return shimBinaryFromBuildInfo(info)
}

// shimBinaryFromBuildInfo: a shim built inside hcsshim (`go install
// .../containerd-shim-runhcs-v1@vX`) has hcsshim as its main module; one
// built by another module, as containerd's Windows release does, has it
// as a dependency. A build from an hcsshim checkout records "(devel)":
// its release, if any, is only in what --version prints.
func shimBinaryFromBuildInfo(info *debug.BuildInfo) (string, error) {
	if info.Path != runhcsMain {
		return "", fmt.Errorf("the executable is %s, not containerd-shim-runhcs-v1", info.Path)
	}
	if info.Main.Path == hcsshimModule {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v, nil
		}
		return "", nil
	}
	if v := shimFromBuildInfo(info); v != "(unknown)" {
		return v, nil
	}
	return "", nil
}

// ShimVersionOutput reads the hcsshim release from what
// `containerd-shim-runhcs-v1 --version` printed: hcsshim's release
// scripts embed it (internal/version), and the shim prints
// "containerd-shim-runhcs-v1 version v0.15.0" followed by the commit and
// spec lines; a build without it prints "version spec: 1.3.0". "" when
// there is none.
func ShimVersionOutput(out string) string {
	for _, line := range strings.Split(out, "\n") {
		_, v, ok := strings.Cut(strings.TrimSpace(line), "containerd-shim-runhcs-v1 version ")
		if ok && strings.HasPrefix(v, "v") && strings.Count(v, ".") >= 2 && !strings.ContainsAny(v, " \t") {
			return v
		}
	}
	return ""
}

// CheckShim compares the shim at path with the hcsshim release wincri is
// built and tested against, and describes the outcome: an error when
// the release differs or cannot be told.
//
// runVersion runs the shim with --version, for a shim whose build
// information records no release; nil skips that.
func CheckShim(path string, runVersion func(path string) (string, error)) (string, error) {
	got, err := ShimBinaryVersion(path)
	if err != nil {
		return "", err
	}
	return checkShimVersion(path, got, ShimVersion(), runVersion)
}

func checkShimVersion(path, got, want string, runVersion func(path string) (string, error)) (string, error) {
	if got == "" && runVersion != nil {
		out, err := runVersion(path)
		if err != nil {
			return "", fmt.Errorf("running %s --version: %w", path, err)
		}
		got = ShimVersionOutput(out)
	}
	switch got {
	case want:
		return fmt.Sprintf("%s: containerd-shim-runhcs-v1 from hcsshim %s, the release wincri is tested against", path, got), nil
	case "":
		return "", fmt.Errorf("%s is a development build of containerd-shim-runhcs-v1 that records no hcsshim release; "+
			"wincri is tested against hcsshim %s: install that release's shim", path, want)
	default:
		return "", fmt.Errorf("%s is containerd-shim-runhcs-v1 from hcsshim %s, but wincri is tested against hcsshim %s: install that release's shim", path, got, want)
	}
}
