// Package winversion holds the Windows OS version rules: parsing
// "major.minor.build[.revision]" and which image builds a host runs under
// process and Hyper-V isolation. It is a leaf: the image and isolation
// code both build on it.
package winversion

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Windows builds that the compatibility rules name.
const (
	BuildLTSC2019 = 17763
	// BuildLTSC2022 is the first build whose hosts accept images of other
	// builds under process isolation.
	BuildLTSC2022 = 20348
	BuildLTSC2025 = 26100
)

// ltscBuilds are the long-term servicing builds from BuildLTSC2022 on, in
// ascending order. A host accepts process-isolated images from the newest
// of these strictly older than itself (BuildLTSC2022 when none is) up to
// its own build: a Server 2025 host runs Server 2022 images, and a
// Windows 11 host (22621) runs them too. hcsshim v0.15.0's
// compatLTSCReleases (osversion/platform_compat_windows.go).
var ltscBuilds = []uint32{BuildLTSC2022, BuildLTSC2025}

// Version is a Windows version "major.minor.build[.revision]", as in an
// image's os.version or the host's version.
type Version struct {
	Major, Minor, Build, Revision uint32
}

// Parse parses "10.0.20348" or "10.0.20348.2113". Errors wrap
// errdefs.ErrInvalidArgument.
func Parse(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 3 || len(parts) > 4 {
		return Version{}, fmt.Errorf("invalid Windows os.version %q: want major.minor.build[.revision]: %w", s, errdefs.ErrInvalidArgument)
	}
	var n [4]uint32
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("invalid Windows os.version %q: %w", s, errdefs.ErrInvalidArgument)
		}
		n[i] = uint32(v)
	}
	return Version{Major: n[0], Minor: n[1], Build: n[2], Revision: n[3]}, nil
}

// String formats v as major.minor.build.revision.
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.Build, v.Revision)
}

// ProcessCompatible reports whether a host (or a utility VM) of build
// host can run a process-isolated container of image build img. Major
// and minor versions must match; before Windows Server 2022 the builds
// must be equal; from it on, the image build must lie between the host's
// LTSC baseline and the host build. Revisions never matter. This is
// hcsshim's CheckHostAndContainerCompat, which lives in a Windows-only
// file and so cannot be called here.
func ProcessCompatible(host, img Version) bool {
	if host.Major != img.Major || host.Minor != img.Minor {
		return false
	}
	if host.Build < BuildLTSC2022 {
		return host.Build == img.Build
	}
	return ltscBaseline(host.Build) <= img.Build && img.Build <= host.Build
}

// ltscBaseline is the oldest image build a host of build runs: the newest
// LTSC build strictly older than the host, BuildLTSC2022 when none is.
func ltscBaseline(build uint32) uint32 {
	base := ltscBuilds[0]
	for _, b := range ltscBuilds {
		if b < build {
			base = b
		}
	}
	return base
}

// HyperVCompatible reports whether a host of build host can boot a
// utility VM for image build img: the VM brings its own kernel, so any
// build up to the host's own runs.
func HyperVCompatible(host, img Version) bool {
	return host.Major == img.Major && host.Minor == img.Minor && img.Build <= host.Build
}

// CheckProcessIsolation returns nil when the host can run img under
// process isolation, else an error wrapping errdefs.ErrFailedPrecondition
// that names both builds and, when it would work, the hyperv handler.
func CheckProcessIsolation(host, img Version) error {
	if ProcessCompatible(host, img) {
		return nil
	}
	hint := ""
	if HyperVCompatible(host, img) {
		hint = "; a pod with the hyperv runtime handler can run it"
	}
	return fmt.Errorf("image OS build %s is not compatible with host build %s under process isolation%s: %w",
		img, host, hint, errdefs.ErrFailedPrecondition)
}

// CheckHyperVIsolation returns nil when a Hyper-V pod whose utility VM
// runs uvm (the build of the pod's sandbox image) can run a container of
// build img. The containers share the VM's kernel, so the process rule
// applies with the VM in the host's place. Errors wrap
// errdefs.ErrFailedPrecondition and name both builds.
func CheckHyperVIsolation(uvm, img Version) error {
	if ProcessCompatible(uvm, img) {
		return nil
	}
	return fmt.Errorf("image OS build %s is not compatible with build %s of the pod's utility VM (its sandbox image): %w",
		img, uvm, errdefs.ErrFailedPrecondition)
}
