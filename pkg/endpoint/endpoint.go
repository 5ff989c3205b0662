// Package endpoint parses wincri's --listen endpoint and opens it: a unix
// socket on Linux, a named pipe on Windows, each admitting only the
// administrators of the host. Dial connects wincri's own command-line
// clients to it.
package endpoint

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Scheme of an endpoint.
type Scheme string

const (
	Unix  Scheme = "unix"
	NPipe Scheme = "npipe"
)

// Endpoint is a parsed --listen value.
type Endpoint struct {
	Scheme Scheme
	// Path is the socket file path or the pipe path (\\.\pipe\name).
	Path string
}

func (e Endpoint) String() string {
	if e.Scheme == NPipe {
		return "npipe://" + strings.ReplaceAll(e.Path, `\`, "/")
	}
	return "unix://" + e.Path
}

// Parse accepts unix:///abs/path.sock and npipe:////./pipe/name (the
// forms kubelet and crictl use).
func Parse(s string) (Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: %v", s, err)
	}
	switch Scheme(u.Scheme) {
	case Unix:
		if u.Host != "" {
			return Endpoint{}, fmt.Errorf("endpoint %q: a unix endpoint is unix:///absolute/path, not a host", s)
		}
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return Endpoint{}, fmt.Errorf("endpoint %q: the socket path must be absolute", s)
		}
		return Endpoint{Scheme: Unix, Path: filepath.Clean(u.Path)}, nil
	case NPipe:
		// npipe:////./pipe/name parses as host "" and path
		// "//./pipe/name"; the short npipe://./pipe/name as host ".".
		p := u.Path
		if u.Host != "" {
			p = "//" + u.Host + u.Path
		}
		p = strings.ReplaceAll(p, "/", `\`)
		if !strings.HasPrefix(strings.ToLower(p), `\\.\pipe\`) || len(p) == len(`\\.\pipe\`) {
			return Endpoint{}, fmt.Errorf(`endpoint %q: a named pipe endpoint is npipe:////./pipe/NAME`, s)
		}
		return Endpoint{Scheme: NPipe, Path: p}, nil
	case "":
		return Endpoint{}, fmt.Errorf("endpoint %q: missing scheme, use unix:// or npipe://", s)
	default:
		return Endpoint{}, fmt.Errorf("endpoint %q: unsupported scheme %q, use unix:// or npipe://", s, u.Scheme)
	}
}
