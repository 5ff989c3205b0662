package stdio

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/Microsoft/go-winio"
)

// adminsOnly admits only SYSTEM and Administrators, as the shim runs.
const adminsOnly = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

func (p *Pipes) open(ctx context.Context, id string, cfg Config) error {
	var err error
	if cfg.Stdin {
		p.StdinPath = pipeName(id, "stdin")
		if p.Stdin, err = listenOne(p.StdinPath); err != nil {
			return err
		}
	}
	if cfg.Stdout {
		p.StdoutPath = pipeName(id, "stdout")
		if p.Stdout, err = listenOne(p.StdoutPath); err != nil {
			return err
		}
	}
	if cfg.Stderr {
		p.StderrPath = pipeName(id, "stderr")
		if p.Stderr, err = listenOne(p.StderrPath); err != nil {
			return err
		}
	}
	return nil
}

func pipeName(id, stream string) string {
	return fmt.Sprintf(`\\.\pipe\wincri-%s-%s`, id, stream)
}

// listenOne serves a pipe that the shim dials once; reads and writes wait
// for that connection.
func listenOne(path string) (*pipeConn, error) {
	l, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: adminsOnly})
	if err != nil {
		return nil, err
	}
	c := &pipeConn{l: l, ready: make(chan struct{})}
	go func() {
		c.conn, c.err = l.Accept()
		_ = l.Close()
		close(c.ready)
	}()
	return c, nil
}

type pipeConn struct {
	l     net.Listener
	ready chan struct{}
	conn  net.Conn
	err   error
	once  sync.Once
}

var _ io.ReadWriteCloser = (*pipeConn)(nil)

func (c *pipeConn) Read(b []byte) (int, error) {
	<-c.ready
	if c.err != nil {
		return 0, c.err
	}
	return c.conn.Read(b)
}

func (c *pipeConn) Write(b []byte) (int, error) {
	<-c.ready
	if c.err != nil {
		return 0, c.err
	}
	return c.conn.Write(b)
}

func (c *pipeConn) Close() error {
	c.once.Do(func() { _ = c.l.Close() })
	<-c.ready
	if c.conn != nil {
		return c.conn.Close()
	}
	return nil
}
