//go:build !windows

package isolation

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deviceFromPath describes the device node at p (following symlinks,
// as /dev/disk/by-id links are meant to be used).
func deviceFromPath(p string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return specs.LinuxDevice{}, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	var typ string
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, fmt.Errorf("%q is not a device node: %w", p, errdefs.ErrInvalidArgument)
	}
	rdev := uint64(st.Rdev) //nolint:unconvert // Rdev is narrower on some systems
	mode := os.FileMode(uint32(st.Mode) & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path:     p,
		Type:     typ,
		Major:    int64(unix.Major(rdev)),
		Minor:    int64(unix.Minor(rdev)),
		FileMode: &mode,
		UID:      &uid,
		GID:      &gid,
	}, nil
}
