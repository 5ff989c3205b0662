package streaming_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// cutProxy forwards loopback connections to a streaming server until cut
// drops them all at once, as when the client's process is killed or its
// network goes: a graceful client Close is not that, since it waits for
// its streams to end before the connection does.
type cutProxy struct {
	lis   net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

// newCutProxy proxies the host of rawURL and returns the URL through it.
func newCutProxy(t *testing.T, rawURL string) (*cutProxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{lis: lis}
	t.Cleanup(p.cut)
	go p.serve(u.Host)
	u.Host = lis.Addr().String()
	return p, u.String()
}

func (p *cutProxy) serve(target string) {
	for {
		client, err := p.lis.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(server, client) }()
		go func() { _, _ = io.Copy(client, server) }()
	}
}

// cut closes the listener and every proxied connection.
func (p *cutProxy) cut() {
	_ = p.lis.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
