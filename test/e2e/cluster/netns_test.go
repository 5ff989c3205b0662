//go:build linux

package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// nodeNetns is a network namespace the suite makes for one node, bound to
// a file so that every component can enter it with nsenter. kubelet
// refuses a loopback node IP, so the node's IP sits on an ifb device (this
// kernel has no dummy driver; ifb is NOARP and drops what it is sent)
// carrying the default route: nothing a test sends leaves the namespace.
// Entering only the network namespace keeps the host's mount namespace
// and /sys, which kubelet and wincri must share.
type nodeNetns struct {
	path string
	ip   string
}

// newNodeNetns creates the namespace at path with the node IP ip/24.
func newNodeNetns(ctx context.Context, path, ip string) (*nodeNetns, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	if out, err := exec.CommandContext(ctx, "unshare", "--net="+path, "true").CombinedOutput(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("creating the node's network namespace: %w: %s", err, out)
	}
	n := &nodeNetns{path: path, ip: ip}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "node0", "type", "ifb"},
		{"addr", "add", ip + "/24", "dev", "node0"},
		{"link", "set", "node0", "up"},
		{"route", "add", "default", "dev", "node0"},
	} {
		if out, err := n.command(ctx, "ip", args...).CombinedOutput(); err != nil {
			n.remove()
			return nil, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	return n, nil
}

// command runs name inside the namespace; nsenter execs it, so the
// command's pid is the program's own.
func (n *nodeNetns) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + n.path, "--", name}, args...)...)
}

// dial opens a TCP connection from inside the namespace: a socket belongs
// to the namespace of the thread that created it, so a locked thread
// enters the namespace, dials, and is thrown away with its goroutine.
func (n *nodeNetns) dial(ctx context.Context, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open(n.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("entering the node's network namespace: %w", err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// httpClient is an HTTP client whose connections start inside the
// namespace.
func (n *nodeNetns) httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return n.dial(ctx, addr) },
	}}
}

// remove deletes the namespace and with it every device, route and
// iptables rule made inside it.
func (n *nodeNetns) remove() {
	_ = unix.Unmount(n.path, unix.MNT_DETACH)
	_ = os.Remove(n.path)
}
