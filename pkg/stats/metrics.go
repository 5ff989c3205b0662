package stats

import "time"

// MetricType says how a metric's value behaves.
type MetricType int

const (
	Counter MetricType = iota
	Gauge
)

// Label keys of the metrics, in the order Point.Labels holds them.
// kubelet adds the pod and namespace labels itself.
var (
	baseLabels      = []string{"id", "name", "image"}
	interfaceLabels = []string{"id", "name", "image", "interface"}
)

// Descriptor describes one metric, under the name cAdvisor gives it.
type Descriptor struct {
	Name, Help string
	LabelKeys  []string
	Type       MetricType
}

// Metric names, as cAdvisor spells them.
const (
	MetricCPUUsageSeconds  = "container_cpu_usage_seconds_total"
	MetricCPUUserSeconds   = "container_cpu_user_seconds_total"
	MetricCPUSystemSeconds = "container_cpu_system_seconds_total"
	MetricMemoryUsage      = "container_memory_usage_bytes"
	MetricMemoryWorkingSet = "container_memory_working_set_bytes"
	MetricMemoryRSS        = "container_memory_rss"
	MetricMemoryCache      = "container_memory_cache"
	MetricMemoryMappedFile = "container_memory_mapped_file"
	MetricMemoryFailcnt    = "container_memory_failcnt"
	MetricMemoryFailures   = "container_memory_failures_total"
	MetricSpecMemoryLimit  = "container_spec_memory_limit_bytes"
	MetricProcesses        = "container_processes"
	MetricFSUsage          = "container_fs_usage_bytes"
	MetricFSInodes         = "container_fs_inodes_total"
	MetricNetRxBytes       = "container_network_receive_bytes_total"
	MetricNetRxPackets     = "container_network_receive_packets_total"
	MetricNetRxErrors      = "container_network_receive_errors_total"
	MetricNetRxDropped     = "container_network_receive_packets_dropped_total"
	MetricNetTxBytes       = "container_network_transmit_bytes_total"
	MetricNetTxPackets     = "container_network_transmit_packets_total"
	MetricNetTxErrors      = "container_network_transmit_errors_total"
	MetricNetTxDropped     = "container_network_transmit_packets_dropped_total"
	MetricLastSeen         = "container_last_seen"
)

// Descriptors lists every metric ContainerPoints and NetworkPoints
// produce; the list is fixed, as kubelet reads it once.
func Descriptors() []Descriptor {
	return []Descriptor{
		{MetricCPUUsageSeconds, "Cumulative cpu time consumed in seconds.", baseLabels, Counter},
		{MetricCPUUserSeconds, "Cumulative user cpu time consumed in seconds.", baseLabels, Counter},
		{MetricCPUSystemSeconds, "Cumulative system cpu time consumed in seconds.", baseLabels, Counter},
		{MetricMemoryUsage, "Current memory usage in bytes, including all memory regardless of when it was accessed.", baseLabels, Gauge},
		{MetricMemoryWorkingSet, "Current working set in bytes.", baseLabels, Gauge},
		{MetricMemoryRSS, "Size of RSS in bytes.", baseLabels, Gauge},
		{MetricMemoryCache, "Number of bytes of page cache memory.", baseLabels, Gauge},
		{MetricMemoryMappedFile, "Size of memory mapped files in bytes.", baseLabels, Gauge},
		{MetricMemoryFailcnt, "Number of memory usage hits limits.", baseLabels, Counter},
		{MetricMemoryFailures, "Cumulative count of memory allocation failures (page faults).", baseLabels, Counter},
		{MetricSpecMemoryLimit, "Memory limit for the container.", baseLabels, Gauge},
		{MetricProcesses, "Number of processes running inside the container.", baseLabels, Gauge},
		{MetricFSUsage, "Number of bytes that are consumed by the container on this filesystem.", baseLabels, Gauge},
		{MetricFSInodes, "Number of inodes used by the container on this filesystem.", baseLabels, Gauge},
		{MetricNetRxBytes, "Cumulative count of bytes received.", interfaceLabels, Counter},
		{MetricNetRxPackets, "Cumulative count of packets received.", interfaceLabels, Counter},
		{MetricNetRxErrors, "Cumulative count of errors encountered while receiving.", interfaceLabels, Counter},
		{MetricNetRxDropped, "Cumulative count of packets dropped while receiving.", interfaceLabels, Counter},
		{MetricNetTxBytes, "Cumulative count of bytes transmitted.", interfaceLabels, Counter},
		{MetricNetTxPackets, "Cumulative count of packets transmitted.", interfaceLabels, Counter},
		{MetricNetTxErrors, "Cumulative count of errors encountered while transmitting.", interfaceLabels, Counter},
		{MetricNetTxDropped, "Cumulative count of packets dropped while transmitting.", interfaceLabels, Counter},
		{MetricLastSeen, "Last time a container was seen by the exporter, in seconds since the epoch.", baseLabels, Gauge},
	}
}

// Point is one metric value with its label values.
type Point struct {
	Name   string
	Type   MetricType
	Labels []string
	Value  uint64
	At     time.Time
}

// Identity labels a container's points: id, name and image.
type Identity struct {
	ID, Name, Image string
}

// ContainerPoints are the metrics of one container's sample and
// writable layer (nil when not measured yet). CPU times are whole
// seconds: the CRI carries integers and kubelet passes them on as they
// are.
func ContainerPoints(id Identity, s Sample, layer *Filesystem) []Point {
	labels := []string{id.ID, id.Name, id.Image}
	var out []Point
	add := func(name string, t MetricType, v uint64) {
		out = append(out, Point{Name: name, Type: t, Labels: labels, Value: v, At: s.At})
	}
	if c := s.CPU; c != nil {
		add(MetricCPUUsageSeconds, Counter, c.UsageCoreNanoSeconds/uint64(time.Second))
		add(MetricCPUUserSeconds, Counter, c.User/uint64(time.Second))
		add(MetricCPUSystemSeconds, Counter, c.System/uint64(time.Second))
	}
	if m := s.Memory; m != nil {
		add(MetricMemoryUsage, Gauge, m.Usage)
		add(MetricMemoryWorkingSet, Gauge, m.WorkingSet)
		add(MetricMemoryRSS, Gauge, m.RSS)
		add(MetricMemoryCache, Gauge, m.Cache)
		add(MetricMemoryMappedFile, Gauge, m.MappedFile)
		add(MetricMemoryFailcnt, Counter, m.Failcnt)
		add(MetricMemoryFailures, Counter, m.PageFaults)
		add(MetricSpecMemoryLimit, Gauge, m.Limit)
	}
	if p := s.Process; p != nil {
		add(MetricProcesses, Gauge, p.Count)
	}
	if layer != nil {
		add(MetricFSUsage, Gauge, layer.UsedBytes)
		add(MetricFSInodes, Gauge, layer.InodesUsed)
	}
	if !s.At.IsZero() {
		add(MetricLastSeen, Gauge, uint64(s.At.Unix()))
	}
	return out
}

// NetworkPoints are the metrics of a pod's interfaces, labelled like
// its sandbox.
func NetworkPoints(id Identity, at time.Time, ifaces []Interface) []Point {
	var out []Point
	for _, i := range ifaces {
		labels := []string{id.ID, id.Name, id.Image, i.Name}
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
