package sandbox

import (
	"context"
	"errors"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/stats"
)

// podInterfaces reads the counters of the HNS endpoints in the pod's
// HCN namespace (rec.NetNS is its id).
func podInterfaces(_ context.Context, rec PodRecord, _ *runtime.PodSandboxConfig) ([]stats.Interface, error) {
	ids, err := hcn.GetNamespaceEndpointIds(rec.NetNS)
	if err != nil {
		return nil, err
	}
	var (
		out  []stats.Interface
		errs []error
	)
	for _, id := range ids {
		st, err := hcsshim.GetHNSEndpointStats(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, stats.Interface{
			Name:    id,
			RxBytes: st.BytesReceived, RxPackets: st.PacketsReceived, RxDropped: st.DroppedPacketsIncoming,
			TxBytes: st.BytesSent, TxPackets: st.PacketsSent, TxDropped: st.DroppedPacketsOutgoing,
		})
	}
	return out, errors.Join(errs...)
}
