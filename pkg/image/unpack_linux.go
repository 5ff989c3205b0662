package image

import "golang.org/x/sys/unix"

// mknodAt creates the device node or FIFO name in the directory dirfd;
// mode carries the file type (unix.S_IFCHR, S_IFBLK or S_IFIFO) and the
// permission bits.
func mknodAt(dirfd int, name string, mode uint32, major, minor int64) error {
	return unix.Mknodat(dirfd, name, mode, int(unix.Mkdev(uint32(major), uint32(minor))))
}
