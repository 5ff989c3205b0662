// Package stats turns what the shims report into wincri's own resource
// usage figures, OS-neutral, for the CRI stats and metrics RPCs:
// cgroups v1 and v2 metrics from containerd-shim-runc-v2 and the runhcs
// statistics of containerd-shim-runhcs-v1. It also derives what needs
// more than one sample (CPU rates) and caches what is expensive to
// measure (the disk usage of writable layers).
//
// The metrics carry cAdvisor's names and label keys. A Linux container
// has every one of them that critest expects, except block I/O where
// the kernel keeps no per-device accounting. A Windows container's
// runhcs statistics have CPU times, the private working set, commit
// and commit peak, and storage counts; they have no CFS accounting,
// swap, kernel memory, OOM count, pids limit or device numbers, and
// the host has no /proc to count threads, descriptors and sockets in:
// those metrics have no points there (rss, cache and mapped file read
// 0). A filesystem's inode counts exist only where it has an inode
// table (not NTFS).
package stats
