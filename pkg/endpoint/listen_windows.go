package endpoint

import (
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
)

// adminsOnly admits only SYSTEM and the built-in Administrators group.
const adminsOnly = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// Listen opens the endpoint as a named pipe that only SYSTEM and
// Administrators may open. A pipe name that another process serves is
// refused by the system (first instance only).
func Listen(e Endpoint) (net.Listener, error) {
	if e.Scheme != NPipe {
		return nil, fmt.Errorf("endpoint %s: only npipe:// endpoints are supported on Windows", e)
	}
	l, err := winio.ListenPipe(e.Path, &winio.PipeConfig{
		SecurityDescriptor: adminsOnly,
		InputBufferSize:    65536,
		OutputBufferSize:   65536,
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w (is another wincri serving on it?)", e, err)
	}
	return l, nil
}
