//go:build !windows

package sandbox

import (
	"context"
	"net"
	"strconv"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// dialPod dials localhost:port inside the pod's network namespace (the
// host's for host-network pods). The socket is created while the thread
// is in the namespace and stays there.
func dialPod(ctx context.Context, rec PodRecord, _ *runtime.PodSandboxConfig, port int32) (net.Conn, error) {
	dial := func() (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
		if err != nil {
			// A server may listen on IPv6 loopback only.
			if conn6, err6 := d.DialContext(ctx, "tcp6", net.JoinHostPort("::1", strconv.Itoa(int(port)))); err6 == nil {
				return conn6, nil
			}
		}
		return conn, err
	}
	if rec.NetNS == "" {
		return dial()
	}
	var conn net.Conn
	err := inNetNS(rec.NetNS, func() error {
		var err error
		conn, err = dial()
		return err
	})
	return conn, err
}
