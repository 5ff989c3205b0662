package sandbox

import (
	"context"
	"net"
	"strconv"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/isolation"
)

// dialPod dials the pod's IP: a Windows host reaches a pod's HCN
// namespace only through its endpoint. HostProcess and host-network
// pods share the host's network, so localhost.
func dialPod(ctx context.Context, rec PodRecord, cfg *runtime.PodSandboxConfig, port int32) (net.Conn, error) {
	host := "127.0.0.1"
	if !isolation.HostProcessPod(cfg) && rec.NetNS != "" && len(rec.IPs) > 0 {
		host = rec.IPs[0]
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
}
