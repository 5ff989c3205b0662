package image

import (
	"github.com/Microsoft/hcsshim/osversion"

	"github.com/wincri/wincri/pkg/winversion"
)

// HostPlatform describes the machine wincri runs on, with the Windows
// build and revision that image selection compares against.
func HostPlatform() Host {
	h := defaultHost()
	v := osversion.Get()
	h.OSVersion = winversion.Version{Major: uint32(v.MajorVersion), Minor: uint32(v.MinorVersion), Build: uint32(v.Build)}
	// A missing revision only weakens the tie-break between revisions of
	// one build, which the compatibility rule ignores anyway.
	if rev, err := osversion.BuildRevision(); err == nil {
		h.OSVersion.Revision = rev
	}
	return h
}
