package stats

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// FilesystemCapacity is the size of the volume that holds dir. NTFS
// has no fixed inode table: the inode counts stay 0.
func FilesystemCapacity(dir string) (Capacity, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return Capacity{}, fmt.Errorf("volume of %s: %w", dir, err)
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
		return Capacity{}, fmt.Errorf("volume of %s: %w", dir, err)
	}
	return Capacity{Bytes: total}, nil
}
