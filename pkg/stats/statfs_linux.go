package stats

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FilesystemCapacity is the size and inode table of the filesystem
// that holds dir.
func FilesystemCapacity(dir string) (Capacity, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Capacity{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bsize := uint64(st.Bsize)
	return Capacity{Bytes: st.Blocks * bsize, Inodes: st.Files, InodesFree: st.Ffree}, nil
}
