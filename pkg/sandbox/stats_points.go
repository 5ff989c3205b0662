package sandbox

import "github.com/wincri/wincri/pkg/stats"

// Points are the metrics of the pod's own figures, labelled with the
// pod's name, namespace and sandbox id and an empty container and image,
// and of its interfaces.
func (p PodStats) Points() []stats.Point {
	md := p.Pod.Config.GetMetadata()
	id := stats.Identity{Pod: md.GetName(), Namespace: md.GetNamespace(), ID: p.Pod.ID}
	return append(stats.ContainerPoints(id, stats.Figures{Sample: p.Sample}), stats.NetworkPoints(id, p.At, p.Network)...)
}

// Points are the container's metrics, labelled with its pod's name and
// namespace and its own name, id and image.
func (c ContainerStats) Points() []stats.Point {
	pod := c.Container.PodConfig.GetMetadata()
	id := stats.Identity{
		Pod: pod.GetName(), Namespace: pod.GetNamespace(),
		Container: c.Container.Config.GetMetadata().GetName(), ID: c.Container.ID, Image: c.Container.ImageName,
	}
	f := stats.Figures{Sample: c.Sample, Layer: c.WritableLayer, Capacity: c.Capacity, Spec: c.Spec}
	if c.Container.State == ContainerRunning {
		f.StartedAt = c.Container.StartedAt
	}
	return stats.ContainerPoints(id, f)
}
