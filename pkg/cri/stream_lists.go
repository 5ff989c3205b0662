package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streamBatch is how many items each message of a Stream* list RPC
// carries: far below gRPC's message size limit, which is what these
// RPCs exist to avoid.
const streamBatch = 500

// sendBatches sends items in batches of streamBatch, at least one
// message when there are items and none when there are none.
func sendBatches[T any, R any](items []T, wrap func([]T) *R, send func(*R) error) error {
	for len(items) > 0 {
		n := min(len(items), streamBatch)
		if err := send(wrap(items[:n])); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// StreamPodSandboxes is ListPodSandbox in batches.
func (s *Server) StreamPodSandboxes(req *runtime.StreamPodSandboxesRequest, srv grpc.ServerStreamingServer[runtime.StreamPodSandboxesResponse]) error {
	resp, err := s.ListPodSandbox(srv.Context(), &runtime.ListPodSandboxRequest{Filter: req.GetFilter()})
	if err != nil {
		return err
	}
	return sendBatches(resp.GetItems(), func(b []*runtime.PodSandbox) *runtime.StreamPodSandboxesResponse {
		return &runtime.StreamPodSandboxesResponse{PodSandboxes: b}
	}, srv.Send)
}

// StreamContainers is ListContainers in batches.
func (s *Server) StreamContainers(req *runtime.StreamContainersRequest, srv grpc.ServerStreamingServer[runtime.StreamContainersResponse]) error {
	resp, err := s.ListContainers(srv.Context(), &runtime.ListContainersRequest{Filter: req.GetFilter()})
	if err != nil {
		return err
	}
	return sendBatches(resp.GetContainers(), func(b []*runtime.Container) *runtime.StreamContainersResponse {
		return &runtime.StreamContainersResponse{Containers: b}
	}, srv.Send)
}

// StreamContainerStats is ListContainerStats in batches.
func (s *Server) StreamContainerStats(req *runtime.StreamContainerStatsRequest, srv grpc.ServerStreamingServer[runtime.StreamContainerStatsResponse]) error {
	list, err := s.listContainerStats(srv.Context(), req.GetFilter())
	if err != nil {
		return err
	}
	return sendBatches(list, func(b []*runtime.ContainerStats) *runtime.StreamContainerStatsResponse {
		return &runtime.StreamContainerStatsResponse{ContainerStats: b}
	}, srv.Send)
}

// StreamPodSandboxStats is ListPodSandboxStats in batches.
func (s *Server) StreamPodSandboxStats(req *runtime.StreamPodSandboxStatsRequest, srv grpc.ServerStreamingServer[runtime.StreamPodSandboxStatsResponse]) error {
	list, err := s.listPodStats(srv.Context(), req.GetFilter())
	if err != nil {
		return err
	}
	return sendBatches(list, func(b []*runtime.PodSandboxStats) *runtime.StreamPodSandboxStatsResponse {
		return &runtime.StreamPodSandboxStatsResponse{PodSandboxStats: b}
	}, srv.Send)
}

// StreamPodSandboxMetrics is ListPodSandboxMetrics in batches.
func (s *Server) StreamPodSandboxMetrics(_ *runtime.StreamPodSandboxMetricsRequest, srv grpc.ServerStreamingServer[runtime.StreamPodSandboxMetricsResponse]) error {
	list, err := s.listPodMetrics(srv.Context())
	if err != nil {
		return err
	}
	return sendBatches(list, func(b []*runtime.PodSandboxMetrics) *runtime.StreamPodSandboxMetricsResponse {
		return &runtime.StreamPodSandboxMetricsResponse{PodSandboxMetrics: b}
	}, srv.Send)
}
