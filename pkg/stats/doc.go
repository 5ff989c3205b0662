// Package stats turns what the shims report into wincri's own resource
// usage figures, OS-neutral, for the CRI stats and metrics RPCs:
// cgroups v1 and v2 metrics from containerd-shim-runc-v2 and the runhcs
// statistics of containerd-shim-runhcs-v1. It also derives what needs
// more than one sample (CPU rates) and caches what is expensive to
// measure (the disk usage of writable layers).
package stats
