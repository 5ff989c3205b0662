package endpoint

import (
	"context"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
)

// Dial connects to a server listening on the endpoint, as wincri's own
// command-line clients do.
func Dial(ctx context.Context, e Endpoint) (net.Conn, error) {
	if e.Scheme != NPipe {
		return nil, fmt.Errorf("endpoint %s: only npipe:// endpoints are supported on Windows", e)
	}
	return winio.DialPipeContext(ctx, e.Path)
}
