package stats

import "time"

// Sample is one task's (or one pod's summed) resource usage at a time.
// A nil group means its source reported nothing for it.
type Sample struct {
	At      time.Time
	CPU     *CPU
	Memory  *Memory
	Process *Process
	// IO is block I/O by device; nil when the source does not report
	// it (or the kernel keeps no per-device accounting).
	IO []DeviceIO
	// Cgroup marks figures read from a Linux cgroup (runc, or a Linux
	// container in a utility VM): only those carry swap, kernel memory,
	// OOM events, a pids limit and per-device block I/O.
	Cgroup bool
	// UtilityVM marks the figures of a whole Hyper-V utility VM, which
	// already include those of the containers running in it.
	UtilityVM bool
}

// CPU usage, in nanoseconds of CPU time.
type CPU struct {
	// UsageCoreNanoSeconds is the cumulative CPU time.
	UsageCoreNanoSeconds uint64
	// User and System split it where the source does (0 otherwise).
	User, System uint64
	// UsageNanoCores is the rate since the previous sample (see Rates);
	// 0 until there is one.
	UsageNanoCores uint64
	// CFS is the CFS bandwidth control accounting; nil where the source
	// has none (Windows).
	CFS *CFS
}

// CFS counts CFS bandwidth enforcement periods.
type CFS struct {
	Periods, ThrottledPeriods uint64
	// ThrottledTime is in nanoseconds.
	ThrottledTime uint64
}

// Memory usage, in bytes. Fields a source does not know stay 0.
type Memory struct {
	// WorkingSet is what kubelet evicts on: usage less inactive file
	// pages on Linux, the private working set on Windows.
	WorkingSet uint64
	Usage      uint64
	RSS        uint64
	Cache      uint64
	MappedFile uint64
	// Limit is the memory limit, 0 when unlimited.
	Limit uint64
	// Available is Limit less WorkingSet, 0 when unlimited.
	Available       uint64
	PageFaults      uint64
	MajorPageFaults uint64
	// Failcnt is how often the limit was hit (cgroup v1), or the count
	// of OOM kills (cgroup v2).
	Failcnt uint64
	// Commit and CommitPeak are Windows commit charge figures.
	Commit, CommitPeak uint64
	// MaxUsage is the highest usage recorded: the cgroup's peak on
	// Linux, the commit peak on Windows.
	MaxUsage uint64
	// Swap is swap in use and Kernel kernel memory (Sample.Cgroup only).
	Swap, Kernel uint64
	// OOMEvents counts the kernel's OOM kills in the cgroup.
	OOMEvents uint64
}

// Process counts a task's processes.
type Process struct {
	Count uint64
	// ThreadsMax is the pids limit, 0 when unlimited (Sample.Cgroup
	// only).
	ThreadsMax uint64
	// Tasks is nil where the host cannot see the processes (Windows).
	Tasks *Tasks
}

// Tasks are what a task's processes hold, counted in /proc.
type Tasks struct {
	Threads, FileDescriptors, Sockets uint64
}

// DeviceIO is the cumulative block I/O to one device.
type DeviceIO struct {
	Major, Minor uint64
	// Device is the device's name where the source knows it, else
	// "major:minor".
	Device                string
	ReadBytes, WriteBytes uint64
	Reads, Writes         uint64
}

// Interface is one network interface's cumulative counters.
type Interface struct {
	Name                                    string
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// Filesystem is the disk usage of a writable layer.
type Filesystem struct {
	At         time.Time
	UsedBytes  uint64
	InodesUsed uint64
}

// Capacity is the size of the filesystem that holds a writable layer.
type Capacity struct {
	Bytes uint64
	// Inodes and InodesFree are 0 on filesystems without a fixed inode
	// table (NTFS).
	Inodes, InodesFree uint64
}
