//go:build !windows

package endpoint

import (
	"context"
	"fmt"
	"net"
)

// Dial connects to a server listening on the endpoint, as wincri's own
// command-line clients do.
func Dial(ctx context.Context, e Endpoint) (net.Conn, error) {
	if e.Scheme != Unix {
		return nil, fmt.Errorf("endpoint %s: only unix:// endpoints are supported on this OS", e)
	}
	var d net.Dialer
	return d.DialContext(ctx, "unix", e.Path)
}
