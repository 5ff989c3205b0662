package stats

import (
	"strconv"
	"time"
)

// Figures are everything the metrics of one container (or of a pod's
// own cgroup) come from.
type Figures struct {
	Sample
	// Layer is the writable layer's usage, nil until measured.
	Layer *Filesystem
	// Capacity is the filesystem holding the layer, nil when unknown.
	Capacity *Capacity
	// Spec is the container's configured resources, nil for a pod.
	Spec *Spec
	// StartedAt is when the container started; zero for none.
	StartedAt time.Time
}

// ContainerPoints are the metrics of one container's (or pod's)
// figures. Times are whole seconds: the CRI carries integers and
// kubelet passes them on as they are. A group the source did not
// report has no points.
func ContainerPoints(id Identity, f Figures) []Point {
	b := pointBuilder{labels: id.labels(), at: f.At}
	if b.at.IsZero() {
		b.at = time.Now()
	}
	b.cpu(f.CPU)
	b.memory(f.Memory, f.Cgroup)
	b.process(f.Process, f.Cgroup)
	b.io(f.IO, f.Cgroup)
	b.filesystem(f.Layer, f.Capacity)
	b.spec(f.Spec)
	if !f.StartedAt.IsZero() {
		b.add(MetricStartTime, Gauge, uint64(max(f.StartedAt.Unix(), 0)))
	}
	if !f.At.IsZero() {
		b.add(MetricLastSeen, Gauge, uint64(f.At.Unix()))
	}
	return b.out
}

type pointBuilder struct {
	labels []string
	at     time.Time
	out    []Point
}

func (b *pointBuilder) add(name string, t MetricType, v uint64, extra ...string) {
	labels := b.labels
	if len(extra) > 0 {
		labels = append(append(make([]string, 0, len(b.labels)+len(extra)), b.labels...), extra...)
	}
	b.out = append(b.out, Point{Name: name, Type: t, Labels: labels, Value: v, At: b.at})
}

func (b *pointBuilder) cpu(c *CPU) {
	if c == nil {
		return
	}
	b.add(MetricCPUUsageSeconds, Counter, c.UsageCoreNanoSeconds/uint64(time.Second))
	b.add(MetricCPUUserSeconds, Counter, c.User/uint64(time.Second))
	b.add(MetricCPUSystemSeconds, Counter, c.System/uint64(time.Second))
	if cfs := c.CFS; cfs != nil {
		b.add(MetricCPUCFSPeriods, Counter, cfs.Periods)
		b.add(MetricCPUCFSThrottledPeriods, Counter, cfs.ThrottledPeriods)
		b.add(MetricCPUCFSThrottledSeconds, Counter, cfs.ThrottledTime/uint64(time.Second))
	}
}

func (b *pointBuilder) memory(m *Memory, cgroup bool) {
	if m == nil {
		return
	}
	b.add(MetricMemoryUsage, Gauge, m.Usage)
	b.add(MetricMemoryMaxUsage, Gauge, m.MaxUsage)
	b.add(MetricMemoryWorkingSet, Gauge, m.WorkingSet)
	b.add(MetricMemoryRSS, Gauge, m.RSS)
	b.add(MetricMemoryCache, Gauge, m.Cache)
	b.add(MetricMemoryMappedFile, Gauge, m.MappedFile)
	b.add(MetricMemoryFailcnt, Counter, m.Failcnt)
	b.add(MetricMemoryFailures, Counter, m.PageFaults)
	b.add(MetricSpecMemoryLimit, Gauge, m.Limit)
	if cgroup {
		b.add(MetricMemorySwap, Gauge, m.Swap)
		b.add(MetricMemoryKernel, Gauge, m.Kernel)
		b.add(MetricOOMEvents, Counter, m.OOMEvents)
	}
}

func (b *pointBuilder) process(p *Process, cgroup bool) {
	if p == nil {
		return
	}
	b.add(MetricProcesses, Gauge, p.Count)
	if cgroup {
		b.add(MetricThreadsMax, Gauge, p.ThreadsMax)
	}
	if t := p.Tasks; t != nil {
		b.add(MetricThreads, Gauge, t.Threads)
		b.add(MetricFileDescriptors, Gauge, t.FileDescriptors)
		b.add(MetricSockets, Gauge, t.Sockets)
	}
}

// io reports per-device I/O; the blkio metric needs device numbers,
// which only a cgroup has.
func (b *pointBuilder) io(io []DeviceIO, cgroup bool) {
	for _, d := range io {
		b.add(MetricFSReadsBytes, Counter, d.ReadBytes, d.Device)
		b.add(MetricFSReads, Counter, d.Reads, d.Device)
		b.add(MetricFSWritesBytes, Counter, d.WriteBytes, d.Device)
		b.add(MetricFSWrites, Counter, d.Writes, d.Device)
		if cgroup {
			major, minor := strconv.FormatUint(d.Major, 10), strconv.FormatUint(d.Minor, 10)
			b.add(MetricBlkioDeviceUsage, Counter, d.ReadBytes, d.Device, major, minor, "Read")
			b.add(MetricBlkioDeviceUsage, Counter, d.WriteBytes, d.Device, major, minor, "Write")
		}
	}
}

func (b *pointBuilder) filesystem(layer *Filesystem, c *Capacity) {
	if layer != nil {
		b.add(MetricFSUsage, Gauge, layer.UsedBytes)
	}
	if c == nil {
		return
	}
	b.add(MetricFSLimit, Gauge, c.Bytes)
	if c.Inodes > 0 {
		b.add(MetricFSInodes, Gauge, c.Inodes)
		b.add(MetricFSInodesFree, Gauge, c.InodesFree)
	}
}

// spec reports the configured resources the way cAdvisor does: period
// and quota only when set, the rest always (0 when unset).
func (b *pointBuilder) spec(s *Spec) {
	if s == nil {
		return
	}
	b.add(MetricSpecCPUShares, Gauge, s.CPUShares)
	if !s.Linux {
		return
	}
	if s.CPUPeriod > 0 {
		b.add(MetricSpecCPUPeriod, Gauge, s.CPUPeriod)
	}
	if s.CPUQuota > 0 {
		b.add(MetricSpecCPUQuota, Gauge, uint64(s.CPUQuota))
	}
	b.add(MetricSpecMemoryReservation, Gauge, s.MemoryReservation)
	b.add(MetricSpecMemorySwapLimit, Gauge, s.MemorySwapLimit)
}

// NetworkPoints are the metrics of a pod's interfaces, labelled like
// its sandbox.
func NetworkPoints(id Identity, at time.Time, ifaces []Interface) []Point {
	var out []Point
	for _, i := range ifaces {
		labels := id.labels(i.Name)
		for _, v := range []struct {
			name  string
			value uint64
		}{
			{MetricNetRxBytes, i.RxBytes}, {MetricNetRxPackets, i.RxPackets}, {MetricNetRxErrors, i.RxErrors}, {MetricNetRxDropped, i.RxDropped},
			{MetricNetTxBytes, i.TxBytes}, {MetricNetTxPackets, i.TxPackets}, {MetricNetTxErrors, i.TxErrors}, {MetricNetTxDropped, i.TxDropped},
		} {
			out = append(out, Point{Name: v.name, Type: Counter, Labels: labels, Value: v.value, At: at})
		}
	}
	return out
}
