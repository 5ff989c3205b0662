// Package stdio creates the endpoints through which a shim connects a
// process's standard streams to wincri: FIFOs on Linux, named pipes on
// Windows. wincri creates them; the shim opens the other end.
package stdio

import (
	"context"
	"io"
	"os"
	"path/filepath"
)

// Pipes are one process's stdio endpoints. The path fields go into the
// shim's CreateTask or Exec request; "" means the stream is not wired.
type Pipes struct {
	StdinPath, StdoutPath, StderrPath string

	// Stdin is nil unless requested; closing it sends EOF.
	Stdin io.WriteCloser
	// Stdout and Stderr are nil unless requested.
	Stdout, Stderr io.ReadCloser

	dir string
}

// Config says which streams to create.
type Config struct {
	Stdin, Stdout, Stderr bool
}

// New creates the endpoints for process id under dir (Linux) or in the
// pipe namespace (Windows). ctx bounds only their creation.
func New(ctx context.Context, dir, id string, cfg Config) (*Pipes, error) {
	p := &Pipes{dir: filepath.Join(dir, id)}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, err
	}
	if err := p.open(ctx, id, cfg); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close closes every stream and removes the endpoints.
func (p *Pipes) Close() error {
	for _, c := range []io.Closer{p.Stdin, p.Stdout, p.Stderr} {
		if c != nil {
			_ = c.Close()
		}
	}
	return os.RemoveAll(p.dir)
}
