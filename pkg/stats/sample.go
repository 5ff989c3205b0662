package stats

import "time"

// Sample is one task's (or one pod's summed) resource usage at a time.
// A nil group means its source reported nothing for it.
type Sample struct {
	At      time.Time
	CPU     *CPU
	Memory  *Memory
	Process *Process
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
}

// Process counts a task's processes.
type Process struct {
	Count uint64
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

// Sum adds samples, as a pod's usage is the sum of its tasks'. The
// result's At is the latest; a group is nil only if every sample's is.
func Sum(samples ...Sample) Sample {
	var out Sample
	var memories int
	var only *Memory
	for _, s := range samples {
		if s.At.After(out.At) {
			out.At = s.At
		}
		if s.CPU != nil {
			if out.CPU == nil {
				out.CPU = &CPU{}
			}
			out.CPU.UsageCoreNanoSeconds += s.CPU.UsageCoreNanoSeconds
			out.CPU.User += s.CPU.User
			out.CPU.System += s.CPU.System
			out.CPU.UsageNanoCores += s.CPU.UsageNanoCores
		}
		if s.Memory != nil {
			if out.Memory == nil {
				out.Memory = &Memory{}
			}
			addMemory(out.Memory, s.Memory)
			memories++
			only = s.Memory
		}
		if s.Process != nil {
			if out.Process == nil {
				out.Process = &Process{}
			}
			out.Process.Count += s.Process.Count
		}
	}
	if memories == 1 {
		out.Memory.Limit, out.Memory.Available = only.Limit, only.Available
	}
	return out
}

func addMemory(to, m *Memory) {
	to.WorkingSet += m.WorkingSet
	to.Usage += m.Usage
	to.RSS += m.RSS
	to.Cache += m.Cache
	to.MappedFile += m.MappedFile
	to.PageFaults += m.PageFaults
	to.MajorPageFaults += m.MajorPageFaults
	to.Failcnt += m.Failcnt
	to.Commit += m.Commit
	to.CommitPeak += m.CommitPeak
	// Limits of separate tasks do not add up to a pod limit: a pod
	// without its own cgroup has none.
	to.Limit, to.Available = 0, 0
}
