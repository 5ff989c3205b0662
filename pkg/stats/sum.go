package stats

import "slices"

// Sum adds samples, as a pod's usage is the sum of its tasks'. The
// result's At is the latest; a group is nil only if every sample's is.
// Limits do not add up: a pod without a cgroup of its own has none, so
// they survive only when a single sample has the group.
func Sum(samples ...Sample) Sample {
	var out Sample
	var memories, processes int
	var onlyMemory *Memory
	var onlyProcess *Process
	for _, s := range samples {
		if s.At.After(out.At) {
			out.At = s.At
		}
		out.Cgroup = out.Cgroup || s.Cgroup
		if s.CPU != nil {
			if out.CPU == nil {
				out.CPU = &CPU{}
			}
			addCPU(out.CPU, s.CPU)
		}
		if s.Memory != nil {
			if out.Memory == nil {
				out.Memory = &Memory{}
			}
			addMemory(out.Memory, s.Memory)
			memories++
			onlyMemory = s.Memory
		}
		if s.Process != nil {
			if out.Process == nil {
				out.Process = &Process{}
			}
			addProcess(out.Process, s.Process)
			processes++
			onlyProcess = s.Process
		}
		out.IO = addIO(out.IO, s.IO)
	}
	if memories == 1 {
		out.Memory.Limit, out.Memory.Available = onlyMemory.Limit, onlyMemory.Available
	}
	if processes == 1 {
		out.Process.ThreadsMax = onlyProcess.ThreadsMax
	}
	return out
}

func addCPU(to, c *CPU) {
	to.UsageCoreNanoSeconds += c.UsageCoreNanoSeconds
	to.User += c.User
	to.System += c.System
	to.UsageNanoCores += c.UsageNanoCores
	if c.CFS != nil {
		if to.CFS == nil {
			to.CFS = &CFS{}
		}
		to.CFS.Periods += c.CFS.Periods
		to.CFS.ThrottledPeriods += c.CFS.ThrottledPeriods
		to.CFS.ThrottledTime += c.CFS.ThrottledTime
	}
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
	// The peaks of separate tasks may not coincide: their sum bounds
	// the pod's peak from above, as cAdvisor's sum over cgroups does.
	to.MaxUsage += m.MaxUsage
	to.Swap += m.Swap
	to.Kernel += m.Kernel
	to.OOMEvents += m.OOMEvents
	to.Limit, to.Available = 0, 0
}

func addProcess(to, p *Process) {
	to.Count += p.Count
	to.ThreadsMax = 0
	if p.Tasks != nil {
		if to.Tasks == nil {
			to.Tasks = &Tasks{}
		}
		to.Tasks.Threads += p.Tasks.Threads
		to.Tasks.FileDescriptors += p.Tasks.FileDescriptors
		to.Tasks.Sockets += p.Tasks.Sockets
	}
}

// addIO adds io to sum device by device, keeping the devices in the
// order they first appear.
func addIO(sum, io []DeviceIO) []DeviceIO {
	for _, d := range io {
		i := slices.IndexFunc(sum, func(x DeviceIO) bool { return x.Major == d.Major && x.Minor == d.Minor })
		if i < 0 {
			sum = append(sum, d)
			continue
		}
		sum[i].ReadBytes += d.ReadBytes
		sum[i].WriteBytes += d.WriteBytes
		sum[i].Reads += d.Reads
		sum[i].Writes += d.Writes
	}
	return sum
}
