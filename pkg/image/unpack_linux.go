package image

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mknodAt creates the device node or FIFO name in the directory dirfd;
// mode carries the file type (unix.S_IFCHR, S_IFBLK or S_IFIFO) and the
// permission bits.
func mknodAt(dirfd int, name string, mode uint32, major, minor int64) error {
	return unix.Mknodat(dirfd, name, mode, int(unix.Mkdev(uint32(major), uint32(minor))))
}

// listXattrs returns the extended attributes of the file at p, without
// following a symlink.
func listXattrs(p string) (map[string]string, error) {
	names := make([]byte, 1024)
	for {
		n, err := unix.Llistxattr(p, names)
		if errors.Is(err, unix.ERANGE) {
			names = make([]byte, 2*len(names))
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		names = names[:n]
		break
	}
	out := map[string]string{}
	for _, name := range strings.Split(string(names), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 256)
		for {
			n, err := unix.Lgetxattr(p, name, val)
			if errors.Is(err, unix.ERANGE) {
				val = make([]byte, 2*len(val))
				continue
			}
			if errors.Is(err, unix.ENODATA) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading xattr %s: %w", name, err)
			}
			out[name] = string(val[:n])
			break
		}
	}
	return out, nil
}

// syncLayer makes an unpacked layer durable: one syncfs of the layer's
// file system writes every file of it (and whatever else is dirty there)
// to disk, instead of an fsync per file.
func syncLayer(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("syncing layer %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncing layer %s: %w", dir, err)
	}
	return nil
}
