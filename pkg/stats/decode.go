package stats

import (
	"fmt"
	"math"
	"strings"
	"time"

	runhcsstats "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/stats"
	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
)

// Message names of what the shims' Stats call returns.
const (
	TypeCgroupsV1 = "io.containerd.cgroups.v1.Metrics"
	TypeCgroupsV2 = "io.containerd.cgroups.v2.Metrics"
	TypeRunhcs    = "containerd.runhcs.stats.v1.Statistics"
)

// unlimited is the smallest value taken for "no limit": cgroup v1
// reports a page-rounded maximum int64, cgroup v2 "max" as MaxUint64.
const unlimited = math.MaxInt64 / 2

// Decode converts a shim's Stats reply, taken at at, into a Sample. A
// nil reply is an empty sample; an unknown or malformed one is
// errdefs.ErrInvalidArgument.
func Decode(any typeurl.Any, at time.Time) (Sample, error) {
	if any == nil {
		return Sample{At: at}, nil
	}
	url := any.GetTypeUrl()
	name := url[strings.LastIndex(url, "/")+1:]
	var (
		msg     proto.Message
		convert func() Sample
	)
	switch name {
	case TypeCgroupsV1:
		m := &v1.Metrics{}
		msg, convert = m, func() Sample { return fromV1(m, at) }
	case TypeCgroupsV2:
		m := &v2.Metrics{}
		msg, convert = m, func() Sample { return fromV2(m, at) }
	case TypeRunhcs:
		m := &runhcsstats.Statistics{}
		msg, convert = m, func() Sample { return fromRunhcs(m, at) }
	default:
		return Sample{}, fmt.Errorf("shim stats of unknown type %q: %w", url, errdefs.ErrInvalidArgument)
	}
	if err := proto.Unmarshal(any.GetValue(), msg); err != nil {
		return Sample{}, fmt.Errorf("decoding shim stats %s: %v: %w", name, err, errdefs.ErrInvalidArgument)
	}
	return convert(), nil
}

func fromV1(m *v1.Metrics, at time.Time) Sample {
	s := Sample{At: at, Cgroup: true, IO: ioFromV1(m.GetBlkio())}
	if c := m.GetCPU(); c != nil {
		u := c.GetUsage()
		s.CPU = &CPU{UsageCoreNanoSeconds: u.GetTotal(), User: u.GetUser(), System: u.GetKernel()}
		if t := c.GetThrottling(); t != nil {
			s.CPU.CFS = &CFS{Periods: t.GetPeriods(), ThrottledPeriods: t.GetThrottledPeriods(), ThrottledTime: t.GetThrottledTime()}
		}
	}
	if mem := m.GetMemory(); mem != nil {
		usage := mem.GetUsage().GetUsage()
		s.Memory = &Memory{
			WorkingSet:      subFloor(usage, mem.GetTotalInactiveFile()),
			Usage:           usage,
			RSS:             mem.GetTotalRSS(),
			Cache:           mem.GetTotalCache(),
			MappedFile:      mem.GetTotalMappedFile(),
			PageFaults:      mem.GetTotalPgFault(),
			MajorPageFaults: mem.GetTotalPgMajFault(),
			Failcnt:         mem.GetUsage().GetFailcnt(),
			MaxUsage:        mem.GetUsage().GetMax(),
			// v1 accounts memory and swap together (memsw), as
			// cAdvisor reads it.
			Swap:      subFloor(mem.GetSwap().GetUsage(), usage),
			Kernel:    mem.GetKernel().GetUsage(),
			OOMEvents: m.GetMemoryOomControl().GetOomKill(),
		}
		setLimit(s.Memory, mem.GetUsage().GetLimit())
	}
	if p := m.GetPids(); p != nil {
		s.Process = &Process{Count: p.GetCurrent(), ThreadsMax: limitOrZero(p.GetLimit())}
	}
	return s
}

func fromV2(m *v2.Metrics, at time.Time) Sample {
	s := Sample{At: at, Cgroup: true, IO: ioFromV2(m.GetIo())}
	if c := m.GetCPU(); c != nil {
		// cgroup v2 counts microseconds.
		s.CPU = &CPU{
			UsageCoreNanoSeconds: c.GetUsageUsec() * 1000, User: c.GetUserUsec() * 1000, System: c.GetSystemUsec() * 1000,
			CFS: &CFS{Periods: c.GetNrPeriods(), ThrottledPeriods: c.GetNrThrottled(), ThrottledTime: c.GetThrottledUsec() * 1000},
		}
	}
	if mem := m.GetMemory(); mem != nil {
		s.Memory = &Memory{
			WorkingSet:      subFloor(mem.GetUsage(), mem.GetInactiveFile()),
			Usage:           mem.GetUsage(),
			RSS:             mem.GetAnon(),
			Cache:           mem.GetFile(),
			MappedFile:      mem.GetFileMapped(),
			PageFaults:      mem.GetPgfault(),
			MajorPageFaults: mem.GetPgmajfault(),
			Failcnt:         m.GetMemoryEvents().GetOomKill(),
			MaxUsage:        mem.GetMaxUsage(),
			Swap:            mem.GetSwapUsage(),
			Kernel:          mem.GetKernelStack() + mem.GetSlab(),
			OOMEvents:       m.GetMemoryEvents().GetOomKill(),
		}
		setLimit(s.Memory, mem.GetUsageLimit())
	}
	if p := m.GetPids(); p != nil {
		s.Process = &Process{Count: p.GetCurrent(), ThreadsMax: limitOrZero(p.GetLimit())}
	}
	return s
}

// fromRunhcs converts runhcs statistics: a container's (process
// isolation, or a container inside a utility VM) or a utility VM's, as
// runhcs returns for the sandbox task of a hyperv pod.
func fromRunhcs(m *runhcsstats.Statistics, at time.Time) Sample {
	if l := m.GetLinux(); l != nil {
		return fromV1(l, at)
	}
	s := Sample{At: at}
	if w := m.GetWindows(); w != nil {
		if ts := w.GetTimestamp(); ts != nil {
			s.At = ts.AsTime()
		}
		if p := w.GetProcessor(); p != nil {
			s.CPU = &CPU{UsageCoreNanoSeconds: p.GetTotalRuntimeNS(), User: p.GetRuntimeUserNS(), System: p.GetRuntimeKernelNS()}
		}
		if mem := w.GetMemory(); mem != nil {
			s.Memory = &Memory{
				WorkingSet: mem.GetMemoryUsagePrivateWorkingSetBytes(),
				Usage:      mem.GetMemoryUsageCommitBytes(),
				Commit:     mem.GetMemoryUsageCommitBytes(),
				CommitPeak: mem.GetMemoryUsageCommitPeakBytes(),
				MaxUsage:   mem.GetMemoryUsageCommitPeakBytes(),
			}
		}
		if st := w.GetStorage(); st != nil {
			// A container's storage counters are not per device: one
			// entry for its sandbox volume.
			s.IO = []DeviceIO{{
				ReadBytes: st.GetReadSizeBytes(), WriteBytes: st.GetWriteSizeBytes(),
				Reads: st.GetReadCountNormalized(), Writes: st.GetWriteCountNormalized(),
			}}
		}
		return s
	}
	if vm := m.GetVM(); vm != nil {
		s.UtilityVM = true
		if p := vm.GetProcessor(); p != nil {
			s.CPU = &CPU{UsageCoreNanoSeconds: p.GetTotalRuntimeNS()}
		}
		if mem := vm.GetMemory(); mem != nil {
			s.Memory = &Memory{WorkingSet: mem.GetWorkingSetBytes(), Usage: mem.GetWorkingSetBytes()}
			if a := mem.GetVmMemory().GetAvailableMemory(); a > 0 {
				// The VM reports what its guest has free, in MiB.
				s.Memory.Available = uint64(a) << 20
			}
		}
	}
	return s
}

// limitOrZero maps "no limit" to 0, as cAdvisor reports it.
func limitOrZero(v uint64) uint64 {
	if v >= unlimited {
		return 0
	}
	return v
}

func setLimit(m *Memory, limit uint64) {
	if limit == 0 || limit >= unlimited {
		return
	}
	m.Limit = limit
	m.Available = subFloor(limit, m.WorkingSet)
}

// subFloor is a-b, or 0 when b exceeds a (counters read at slightly
// different moments).
func subFloor(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
