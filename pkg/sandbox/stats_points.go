package sandbox

import "github.com/wincri/wincri/pkg/stats"

// Points are the metrics of the pod's own figures, labelled with the
// sandbox's id and an empty container name and image, as cAdvisor
// labels a pod's cgroup, and of its interfaces.
func (p PodStats) Points() []stats.Point {
	id := stats.Identity{ID: p.Pod.ID}
	return append(stats.ContainerPoints(id, stats.Figures{Sample: p.Sample}), stats.NetworkPoints(id, p.At, p.Network)...)
}

// Points are the container's metrics, labelled with its id, name and
// image.
func (c ContainerStats) Points() []stats.Point {
	id := stats.Identity{ID: c.Container.ID, Name: c.Container.Config.GetMetadata().GetName(), Image: c.Container.ImageName}
	f := stats.Figures{Sample: c.Sample, Layer: c.WritableLayer, Capacity: c.Capacity, Spec: c.Spec}
	if c.Container.State == ContainerRunning {
		f.StartedAt = c.Container.StartedAt
	}
	return stats.ContainerPoints(id, f)
}
