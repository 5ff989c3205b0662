package stats

import (
	"slices"
	"time"
)

// MetricType says how a metric's value behaves.
type MetricType int

const (
	Counter MetricType = iota
	Gauge
)

// Label keys of the metrics, in the order Point.Labels holds them.
// kubelet serves them on /metrics/cadvisor as they are, adding none, so
// they carry the pod, namespace and container that dashboards select by,
// as containerd's do (internal/cri/server/list_metric_descriptors.go,
// baseLabelKeys). The extra keys are cAdvisor's.
var (
	baseLabels      = []string{"pod", "namespace", "container", "id", "image"}
	interfaceLabels = append(slices.Clip(baseLabels), "interface")
	deviceLabels    = append(slices.Clip(baseLabels), "device")
	blkioLabels     = append(slices.Clip(baseLabels), "device", "major", "minor", "operation")
)

// Descriptor describes one metric, under the name cAdvisor gives it.
type Descriptor struct {
	Name, Help string
	LabelKeys  []string
	Type       MetricType
}

// Metric names, as cAdvisor spells them.
const (
	MetricCPUUsageSeconds        = "container_cpu_usage_seconds_total"
	MetricCPUUserSeconds         = "container_cpu_user_seconds_total"
	MetricCPUSystemSeconds       = "container_cpu_system_seconds_total"
	MetricCPUCFSPeriods          = "container_cpu_cfs_periods_total"
	MetricCPUCFSThrottledPeriods = "container_cpu_cfs_throttled_periods_total"
	MetricCPUCFSThrottledSeconds = "container_cpu_cfs_throttled_seconds_total"
	MetricMemoryUsage            = "container_memory_usage_bytes"
	MetricMemoryMaxUsage         = "container_memory_max_usage_bytes"
	MetricMemoryWorkingSet       = "container_memory_working_set_bytes"
	MetricMemoryRSS              = "container_memory_rss"
	MetricMemoryCache            = "container_memory_cache"
	MetricMemoryMappedFile       = "container_memory_mapped_file"
	MetricMemorySwap             = "container_memory_swap"
	MetricMemoryKernel           = "container_memory_kernel_usage"
	MetricMemoryFailcnt          = "container_memory_failcnt"
	MetricMemoryFailures         = "container_memory_failures_total"
	MetricOOMEvents              = "container_oom_events_total"
	MetricSpecMemoryLimit        = "container_spec_memory_limit_bytes"
	MetricSpecMemoryReservation  = "container_spec_memory_reservation_limit_bytes"
	MetricSpecMemorySwapLimit    = "container_spec_memory_swap_limit_bytes"
	MetricSpecCPUPeriod          = "container_spec_cpu_period"
	MetricSpecCPUQuota           = "container_spec_cpu_quota"
	MetricSpecCPUShares          = "container_spec_cpu_shares"
	MetricStartTime              = "container_start_time_seconds"
	MetricProcesses              = "container_processes"
	MetricThreads                = "container_threads"
	MetricThreadsMax             = "container_threads_max"
	MetricFileDescriptors        = "container_file_descriptors"
	MetricSockets                = "container_sockets"
	MetricFSUsage                = "container_fs_usage_bytes"
	MetricFSLimit                = "container_fs_limit_bytes"
	MetricFSInodes               = "container_fs_inodes_total"
	MetricFSInodesFree           = "container_fs_inodes_free"
	MetricFSReadsBytes           = "container_fs_reads_bytes_total"
	MetricFSReads                = "container_fs_reads_total"
	MetricFSWritesBytes          = "container_fs_writes_bytes_total"
	MetricFSWrites               = "container_fs_writes_total"
	MetricBlkioDeviceUsage       = "container_blkio_device_usage_total"
	MetricNetRxBytes             = "container_network_receive_bytes_total"
	MetricNetRxPackets           = "container_network_receive_packets_total"
	MetricNetRxErrors            = "container_network_receive_errors_total"
	MetricNetRxDropped           = "container_network_receive_packets_dropped_total"
	MetricNetTxBytes             = "container_network_transmit_bytes_total"
	MetricNetTxPackets           = "container_network_transmit_packets_total"
	MetricNetTxErrors            = "container_network_transmit_errors_total"
	MetricNetTxDropped           = "container_network_transmit_packets_dropped_total"
	MetricLastSeen               = "container_last_seen"
)

// Descriptors lists every metric ContainerPoints and NetworkPoints
// produce; the list is fixed, as kubelet reads it once. A metric whose
// source is missing (Windows has no swap or CFS figures, a kernel may
// keep no per-device I/O accounting) is described but has no points.
func Descriptors() []Descriptor {
	return []Descriptor{
		{MetricCPUUsageSeconds, "Cumulative cpu time consumed in seconds.", baseLabels, Counter},
		{MetricCPUUserSeconds, "Cumulative user cpu time consumed in seconds.", baseLabels, Counter},
		{MetricCPUSystemSeconds, "Cumulative system cpu time consumed in seconds.", baseLabels, Counter},
		{MetricCPUCFSPeriods, "Number of elapsed enforcement period intervals.", baseLabels, Counter},
		{MetricCPUCFSThrottledPeriods, "Number of throttled period intervals.", baseLabels, Counter},
		{MetricCPUCFSThrottledSeconds, "Total time duration the container has been throttled, in whole seconds.", baseLabels, Counter},
		{MetricMemoryUsage, "Current memory usage in bytes, including all memory regardless of when it was accessed.", baseLabels, Gauge},
		{MetricMemoryMaxUsage, "Maximum memory usage recorded in bytes.", baseLabels, Gauge},
		{MetricMemoryWorkingSet, "Current working set in bytes.", baseLabels, Gauge},
		{MetricMemoryRSS, "Size of RSS in bytes.", baseLabels, Gauge},
		{MetricMemoryCache, "Number of bytes of page cache memory.", baseLabels, Gauge},
		{MetricMemoryMappedFile, "Size of memory mapped files in bytes.", baseLabels, Gauge},
		{MetricMemorySwap, "Container swap usage in bytes.", baseLabels, Gauge},
		{MetricMemoryKernel, "Size of kernel memory allocated in bytes.", baseLabels, Gauge},
		{MetricMemoryFailcnt, "Number of memory usage hits limits.", baseLabels, Counter},
		{MetricMemoryFailures, "Cumulative count of memory allocation failures (page faults).", baseLabels, Counter},
		{MetricOOMEvents, "Count of out of memory events observed for the container.", baseLabels, Counter},
		{MetricSpecMemoryLimit, "Memory limit for the container.", baseLabels, Gauge},
		{MetricSpecMemoryReservation, "Memory reservation limit for the container.", baseLabels, Gauge},
		{MetricSpecMemorySwapLimit, "Memory swap limit for the container.", baseLabels, Gauge},
		{MetricSpecCPUPeriod, "CPU period of the container.", baseLabels, Gauge},
		{MetricSpecCPUQuota, "CPU quota of the container.", baseLabels, Gauge},
		{MetricSpecCPUShares, "CPU share of the container.", baseLabels, Gauge},
		{MetricStartTime, "Start time of the container since unix epoch in seconds.", baseLabels, Gauge},
		{MetricProcesses, "Number of processes running inside the container.", baseLabels, Gauge},
		{MetricThreads, "Number of threads running inside the container.", baseLabels, Gauge},
		{MetricThreadsMax, "Maximum number of threads allowed inside the container, infinity if value is zero.", baseLabels, Gauge},
		{MetricFileDescriptors, "Number of open file descriptors for the container.", baseLabels, Gauge},
		{MetricSockets, "Number of open sockets for the container.", baseLabels, Gauge},
		{MetricFSUsage, "Number of bytes that are consumed by the container on this filesystem.", baseLabels, Gauge},
		{MetricFSLimit, "Number of bytes that can be consumed by the container on this filesystem.", baseLabels, Gauge},
		{MetricFSInodes, "Number of inodes of the filesystem that holds the container's writable layer.", baseLabels, Gauge},
		{MetricFSInodesFree, "Number of available inodes of the filesystem that holds the container's writable layer.", baseLabels, Gauge},
		{MetricFSReadsBytes, "Cumulative count of bytes read.", deviceLabels, Counter},
		{MetricFSReads, "Cumulative count of reads completed.", deviceLabels, Counter},
		{MetricFSWritesBytes, "Cumulative count of bytes written.", deviceLabels, Counter},
		{MetricFSWrites, "Cumulative count of writes completed.", deviceLabels, Counter},
		{MetricBlkioDeviceUsage, "Blkio device bytes usage.", blkioLabels, Counter},
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

// Identity labels a container's points. A pod's own points have an
// empty Container and Image, as containerd labels them.
type Identity struct {
	Pod, Namespace, Container, ID, Image string
}

// labels are the values of baseLabels, then extra.
func (id Identity) labels(extra ...string) []string {
	return append([]string{id.Pod, id.Namespace, id.Container, id.ID, id.Image}, extra...)
}
