package cri

import (
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
	"github.com/wincri/wincri/pkg/stats"
)

func u64(v uint64) *runtime.UInt64Value { return &runtime.UInt64Value{Value: v} }

func containerAttributes(c sandbox.Container) *runtime.ContainerAttributes {
	return &runtime.ContainerAttributes{
		Id:          c.ID,
		Metadata:    c.Config.GetMetadata(),
		Labels:      c.Config.GetLabels(),
		Annotations: c.Config.GetAnnotations(),
	}
}

func podAttributes(p sandbox.Pod) *runtime.PodSandboxAttributes {
	return &runtime.PodSandboxAttributes{
		Id:          p.ID,
		Metadata:    p.Config.GetMetadata(),
		Labels:      p.Config.GetLabels(),
		Annotations: p.Config.GetAnnotations(),
	}
}

func toCRICPU(s stats.Sample) *runtime.CpuUsage {
	if s.CPU == nil {
		return nil
	}
	return &runtime.CpuUsage{Timestamp: s.At.UnixNano(), UsageCoreNanoSeconds: u64(s.CPU.UsageCoreNanoSeconds), UsageNanoCores: u64(s.CPU.UsageNanoCores)}
}

func toCRIMemory(s stats.Sample) *runtime.MemoryUsage {
	m := s.Memory
	if m == nil {
		return nil
	}
	out := &runtime.MemoryUsage{
		Timestamp:       s.At.UnixNano(),
		WorkingSetBytes: u64(m.WorkingSet),
		UsageBytes:      u64(m.Usage),
		RssBytes:        u64(m.RSS),
		PageFaults:      u64(m.PageFaults),
		MajorPageFaults: u64(m.MajorPageFaults),
	}
	if m.Limit != 0 {
		out.AvailableBytes = u64(m.Available)
	}
	return out
}

func toCRIWindowsCPU(s stats.Sample) *runtime.WindowsCpuUsage {
	if s.CPU == nil {
		return nil
	}
	return &runtime.WindowsCpuUsage{Timestamp: s.At.UnixNano(), UsageCoreNanoSeconds: u64(s.CPU.UsageCoreNanoSeconds), UsageNanoCores: u64(s.CPU.UsageNanoCores)}
}

func toCRIWindowsMemory(s stats.Sample) *runtime.WindowsMemoryUsage {
	m := s.Memory
	if m == nil {
		return nil
	}
	out := &runtime.WindowsMemoryUsage{
		Timestamp:         s.At.UnixNano(),
		WorkingSetBytes:   u64(m.WorkingSet),
		PageFaults:        u64(m.PageFaults),
		CommitMemoryBytes: u64(m.Commit),
	}
	if m.Available != 0 {
		out.AvailableBytes = u64(m.Available)
	}
	return out
}

func toCRIContainerStats(c sandbox.ContainerStats) *runtime.ContainerStats {
	out := &runtime.ContainerStats{
		Attributes: containerAttributes(c.Container),
		Cpu:        toCRICPU(c.Sample),
		Memory:     toCRIMemory(c.Sample),
	}
	if l := c.WritableLayer; l != nil {
		out.WritableLayer = &runtime.FilesystemUsage{Timestamp: l.At.UnixNano(), UsedBytes: u64(l.UsedBytes), InodesUsed: u64(l.InodesUsed)}
	}
	return out
}

func toCRIWindowsContainerStats(c sandbox.ContainerStats) *runtime.WindowsContainerStats {
	out := &runtime.WindowsContainerStats{
		Attributes: containerAttributes(c.Container),
		Cpu:        toCRIWindowsCPU(c.Sample),
		Memory:     toCRIWindowsMemory(c.Sample),
	}
	if l := c.WritableLayer; l != nil {
		out.WritableLayer = &runtime.WindowsFilesystemUsage{Timestamp: l.At.UnixNano(), UsedBytes: u64(l.UsedBytes)}
	}
	return out
}

func toCRIPodStats(p sandbox.PodStats, windows bool) *runtime.PodSandboxStats {
	out := &runtime.PodSandboxStats{Attributes: podAttributes(p.Pod)}
	process := p.Sample.Process
	if windows {
		w := &runtime.WindowsPodSandboxStats{Cpu: toCRIWindowsCPU(p.Sample), Memory: toCRIWindowsMemory(p.Sample), Network: toCRIWindowsNetwork(p)}
		if process != nil {
			w.Process = &runtime.WindowsProcessUsage{Timestamp: p.At.UnixNano(), ProcessCount: u64(process.Count)}
		}
		for _, c := range p.Containers {
			w.Containers = append(w.Containers, toCRIWindowsContainerStats(c))
		}
		out.Windows = w
		return out
	}
	l := &runtime.LinuxPodSandboxStats{Cpu: toCRICPU(p.Sample), Memory: toCRIMemory(p.Sample), Network: toCRINetwork(p)}
	if process != nil {
		l.Process = &runtime.ProcessUsage{Timestamp: p.At.UnixNano(), ProcessCount: u64(process.Count)}
	}
	for _, c := range p.Containers {
		l.Containers = append(l.Containers, toCRIContainerStats(c))
	}
	out.Linux = l
	return out
}

func toCRINetwork(p sandbox.PodStats) *runtime.NetworkUsage {
	if len(p.Network) == 0 {
		return nil
	}
	out := &runtime.NetworkUsage{Timestamp: p.At.UnixNano()}
	for _, i := range p.Network {
		out.Interfaces = append(out.Interfaces, &runtime.NetworkInterfaceUsage{
			Name: i.Name, RxBytes: u64(i.RxBytes), RxErrors: u64(i.RxErrors), TxBytes: u64(i.TxBytes), TxErrors: u64(i.TxErrors),
		})
	}
	out.DefaultInterface = out.Interfaces[0]
	return out
}

func toCRIWindowsNetwork(p sandbox.PodStats) *runtime.WindowsNetworkUsage {
	if len(p.Network) == 0 {
		return nil
	}
	out := &runtime.WindowsNetworkUsage{Timestamp: p.At.UnixNano()}
	for _, i := range p.Network {
		out.Interfaces = append(out.Interfaces, &runtime.WindowsNetworkInterfaceUsage{
			Name: i.Name, RxBytes: u64(i.RxBytes), RxPacketsDropped: u64(i.RxDropped), TxBytes: u64(i.TxBytes), TxPacketsDropped: u64(i.TxDropped),
		})
	}
	out.DefaultInterface = out.Interfaces[0]
	return out
}
