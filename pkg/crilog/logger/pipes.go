package logger

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// PipeSet names the stdio endpoints a logger serves for a container's
// task on Windows, "" for a stream the task has none of. runhcs dials
// them as a client when the task is created (hcsshim v0.15.0,
// internal/cmd/io_npipe.go, NewNpipeIO), as containerd's named pipes
// (pkg/cio/io_windows.go): the only IO runhcs gives stdin and a terminal.
type PipeSet struct {
	Stdin, Stdout, Stderr string
	// Relay is where attach clients write the container's stdin; the
	// logger copies one client at a time into Stdin. "" without stdin.
	Relay string
}

// Pipes returns the endpoints of container id's logger: stdout always,
// stderr unless the task has a terminal (which merges them), stdin and
// its relay when the container reads stdin. The names derive from the
// state directory and id, so a restarted wincri finds them.
func Pipes(stateDir, id string, stdin, tty bool) (PipeSet, error) {
	base, err := ControlAddress(stateDir, id)
	if err != nil {
		return PipeSet{}, err
	}
	// The control endpoint is a named pipe on Windows and a socket file
	// elsewhere; either way the suffixes keep the names apart.
	s := PipeSet{Stdout: base + "-stdout"}
	if !tty {
		s.Stderr = base + "-stderr"
	}
	if stdin {
		s.Stdin, s.Relay = base+"-stdin", base+"-stdin-relay"
	}
	return s, nil
}

// ListenFunc creates a listener: winio.ListenPipe on Windows, a unix
// socket in tests.
type ListenFunc func(name string) (net.Listener, error)

// ServePipes listens on every endpoint of set and returns the Stdio that
// Run reads: each output stream is the first connection to its endpoint
// (the shim's), accepted in the background; a stream the task does not
// have reads as empty. With stdin, the shim's connection to set.Stdin
// takes, one attach client at a time, what clients write to set.Relay.
// An endpoint nobody dials within acceptTimeout (a task that was never
// created) ends the stream, so the logger exits. close releases the
// listeners and connections; Run's end calls it.
func ServePipes(set PipeSet, listen ListenFunc, acceptTimeout time.Duration, ready func() error) (Stdio, func() error, error) {
	p := &pipeServer{}
	var stdio Stdio
	var err error
	if stdio.Stdout, err = p.output(set.Stdout, listen, acceptTimeout); err == nil {
		stdio.Stderr, err = p.output(set.Stderr, listen, acceptTimeout)
	}
	if err == nil && set.Stdin != "" {
		err = p.stdin(set, listen, acceptTimeout)
	}
	if err != nil {
		_ = p.close()
		return Stdio{}, nil, err
	}
	stdio.Ready = ready
	return stdio, p.close, nil
}

// pipeServer owns the listeners and connections of ServePipes.
type pipeServer struct {
	mu        sync.Mutex
	listeners []net.Listener
	conns     []io.Closer
	wg        sync.WaitGroup
	closed    bool
}

func (p *pipeServer) listen(name string, listen ListenFunc) (net.Listener, error) {
	l, err := listen(name)
	if err != nil {
		return nil, fmt.Errorf("logger: listen on %s: %w", name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listeners = append(p.listeners, l)
	return l, nil
}

// keep records a connection for close; false when already closed.
func (p *pipeServer) keep(c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *pipeServer) close() error {
	p.mu.Lock()
	p.closed = true
	var errs []error
	for _, l := range p.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return errors.Join(errs...)
}

// acceptOne accepts the first connection to l, or gives up after
// timeout, and closes l: each output and stdin endpoint has one client,
// the shim.
func acceptOne(l net.Listener, timeout time.Duration) (net.Conn, error) {
	timer := time.AfterFunc(timeout, func() { _ = l.Close() })
	defer timer.Stop()
	c, err := l.Accept()
	_ = l.Close()
	if err != nil {
		return nil, fmt.Errorf("logger: the shim did not connect: %w", err)
	}
	return c, nil
}

// output serves one output endpoint; "" reads as empty.
func (p *pipeServer) output(name string, listen ListenFunc, timeout time.Duration) (io.ReadCloser, error) {
	if name == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	l, err := p.listen(name, listen)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p.wg.Go(func() {
		c, err := acceptOne(l, timeout)
		if err != nil {
			// No shim: the stream is empty and the logger may end.
			_ = pw.Close()
			return
		}
		if !p.keep(c) {
			_ = pw.Close()
			return
		}
		_, err = io.Copy(pw, c)
		_ = pw.CloseWithError(err)
	})
	return pr, nil
}

// stdin serves the shim's stdin endpoint and the attach clients' relay.
func (p *pipeServer) stdin(set PipeSet, listen ListenFunc, timeout time.Duration) error {
	shimSide, err := p.listen(set.Stdin, listen)
	if err != nil {
		return err
	}
	relay, err := p.listen(set.Relay, listen)
	if err != nil {
		return err
	}
	p.wg.Go(func() {
		in, err := acceptOne(shimSide, timeout)
		if err != nil || !p.keep(in) {
			_ = relay.Close()
			return
		}
		for {
			client, err := relay.Accept()
			if err != nil {
				return
			}
			if !p.keep(client) {
				return
			}
			_, err = io.Copy(in, client)
			_ = client.Close()
			if err != nil && !errors.Is(err, net.ErrClosed) {
				// The container's stdin is gone with its process.
				_ = relay.Close()
				return
			}
		}
	})
	return nil
}
