//go:build !windows

package stdio

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/containerd/fifo"
)

func (p *Pipes) open(ctx context.Context, id string, cfg Config) error {
	var err error
	if cfg.Stdin {
		p.StdinPath = filepath.Join(p.dir, "stdin")
		if p.Stdin, err = fifo.OpenFifo(ctx, p.StdinPath, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700); err != nil {
			return err
		}
	}
	if cfg.Stdout {
		p.StdoutPath = filepath.Join(p.dir, "stdout")
		if p.Stdout, err = fifo.OpenFifo(ctx, p.StdoutPath, syscall.O_RDONLY|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700); err != nil {
			return err
		}
	}
	if cfg.Stderr {
		p.StderrPath = filepath.Join(p.dir, "stderr")
		if p.Stderr, err = fifo.OpenFifo(ctx, p.StderrPath, syscall.O_RDONLY|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700); err != nil {
			return err
		}
	}
	return nil
}
