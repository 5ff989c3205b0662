//go:build linux

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// component is one long-running process of the node (etcd, the API
// server, kubelet, wincri...), started inside the node's network
// namespace with its output in <dir>/<name>.log.
type component struct {
	name string
	bin  string
	args []string
	ns   *nodeNetns
	log  string

	cancel context.CancelFunc
	done   chan struct{}
	pid    int
}

func newComponent(ns *nodeNetns, dir, name, bin string, args ...string) *component {
	return &component{name: name, bin: bin, args: args, ns: ns, log: filepath.Join(dir, name+".log")}
}

// start runs the component; it keeps running until stop.
func (c *component) start() error {
	logf, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "==== %s: starting %s %s\n", time.Now().Format(time.RFC3339Nano), c.bin, strings.Join(c.args, " "))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := c.ns.command(ctx, c.bin, c.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that a stop reaches nothing else, and
	// SIGTERM first: wincri and kubelet shut down gracefully on it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return fmt.Errorf("starting %s: %w", c.name, err)
	}
	c.cancel, c.done, c.pid = cancel, make(chan struct{}), cmd.Process.Pid
	go func(done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(c.done)
	return nil
}

// running reports whether the process has not exited.
func (c *component) running() bool {
	if c.done == nil {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits; SIGKILL after 20 seconds.
func (c *component) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
}

// kill ends the process with SIGKILL, as a crash would.
func (c *component) kill() {
	if !c.running() {
		return
	}
	_ = syscall.Kill(c.pid, syscall.SIGKILL)
	<-c.done
	c.cancel()
	c.cancel = nil
}

// tail is the last n lines of the component's log.
func (c *component) tail(n int) string {
	data, err := os.ReadFile(c.log)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// waitFor polls check every half second until it returns nil or timeout
// passes; the error then names what was awaited and check's last error.
func waitFor(timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s: %w", timeout, what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
