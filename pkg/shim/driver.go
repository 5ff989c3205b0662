package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/limit"
	"github.com/wincri/wincri/pkg/logkeys"
)

// DefaultNamespace is the containerd namespace wincri's shims run in.
const DefaultNamespace = "wincri"

// namespacePattern is containerd's rule for namespace names; shims
// reject others.
var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

// ManagerOpts configure a Driver.
type ManagerOpts struct {
	// StateDir holds the events socket and, in StateDir/s, the shims'
	// task sockets. Keep it short: a unix socket path has at most 107
	// bytes and runc-v2 names its socket with 64 hex digits.
	StateDir string
	// Namespace is the containerd namespace of the shims; DefaultNamespace
	// when empty.
	Namespace string
	// Address is the -address value passed to shims. runc-v2 hashes it
	// (with the namespace and the pod id) into its socket path, so it
	// must stay the same across restarts of wincri. Defaults to the
	// events address, which derives from StateDir.
	Address string
	// PublishBinary is the -publish-binary value; os.Executable() when
	// empty.
	PublishBinary string
	// OnEvent receives the shims' task events, one at a time and in the
	// order they arrived. It runs on its own goroutine so it never
	// stalls a shim; a slow OnEvent delays only later events.
	OnEvent func(Event)
	// Debug asks the shims for debug logs.
	Debug bool
	// LaunchLimiter bounds how many shim start handshakes run at once;
	// nil is no bound.
	LaunchLimiter *limit.Limiter
	// PriorityClass is the Windows priority class given to every shim
	// launched (config.PriorityClassValue); 0 leaves the shim's own. A
	// shim's serve process does not inherit an above-normal class from
	// the start command, so it is set on the running shim.
	PriorityClass uint32
	// Logger receives the logs of background work: the events service
	// and the shims' own logs. klog.Background() when unset.
	Logger klog.Logger
}

// Driver drives containerd shim v2 runtimes: it launches shims, keeps
// one connection per shim process, serves the events they publish and
// drains their logs. It implements Manager.
type Driver struct {
	opts      ManagerOpts
	socketDir string
	eventsAdr string
	events    *eventServer
	logger    klog.Logger
	// selfDir is where wincri's executable is: shims named without a
	// path are also looked for there.
	selfDir string

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
}

var _ Manager = (*Driver)(nil)

// NewManager checks opts, creates the state directories and starts the
// events service.
func NewManager(opts ManagerOpts) (*Driver, error) {
	if opts.StateDir == "" {
		return nil, fmt.Errorf("shim state dir is not set: %w", errdefs.ErrInvalidArgument)
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("shim state dir: %w: %w", errdefs.ErrInvalidArgument, err)
	}
	opts.StateDir = stateDir
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if len(opts.Namespace) > 76 || !namespacePattern.MatchString(opts.Namespace) {
		return nil, fmt.Errorf("shim namespace %q: %w (letters, digits, '.', '_', '-'; at most 76)", opts.Namespace, errdefs.ErrInvalidArgument)
	}
	if opts.PublishBinary == "" {
		if opts.PublishBinary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find own executable for -publish-binary: %w", err)
		}
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = klog.Background()
	}
	socketDir := filepath.Join(stateDir, "s")
	if err := checkSocketDir(socketDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(socketDir, 0o700); err != nil {
		return nil, fmt.Errorf("create shim socket dir: %w: %w", errdefs.ErrFailedPrecondition, err)
	}
	d := &Driver{
		opts:      opts,
		socketDir: socketDir,
		eventsAdr: eventsAddress(stateDir, opts.Namespace),
		logger:    opts.Logger.WithName("shim"),
		selfDir:   selfDir(),
		conns:     make(map[string]*conn),
	}
	if d.opts.Address == "" {
		d.opts.Address = d.eventsAdr
	}
	l, err := listenEvents(d.eventsAdr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errdefs.ErrFailedPrecondition, err)
	}
	if d.events, err = newEventServer(d.logger, l, opts.OnEvent); err != nil {
		l.Close()
		return nil, err
	}
	return d, nil
}

// EventsAddress is where the shims publish events (their TTRPC_ADDRESS).
func (d *Driver) EventsAddress() string { return d.eventsAdr }

// Close stops the events service. Open Shim handles stay usable; their
// owners close them.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	return d.events.close()
}

// Connect reconnects to the shim at a recorded address.
func (d *Driver) Connect(ctx context.Context, addr Address) (Shim, error) {
	a, err := checkReply(addr)
	if err != nil {
		return nil, err
	}
	if h, ok := d.cached(a); ok {
		return h, nil
	}
	logStream, err := openShimLog(d.opts.Namespace, a.ShimID, a.Bundle)
	if err != nil {
		// The shim still works; only its log is lost.
		klog.FromContext(ctx).Error(err, "Cannot drain shim log", "address", a.Address)
	}
	return d.attach(ctx, a, logStream, false)
}

// cached returns a new handle on the live connection to addr, if any.
func (d *Driver) cached(addr Address) (*handle, bool) {
	key := shimAddressKey(addr.Address)
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.conns[key]
	if !ok || isClosed(c.done) {
		return nil, false
	}
	c.refs++
	return &handle{conn: c, m: d}, true
}

// attach returns a handle on the connection to addr, dialling the shim
// unless a live connection exists. logStream is the shim log this
// launch opened; the connection drains it unless it drains one already.
func (d *Driver) attach(ctx context.Context, addr Address, rc io.ReadCloser, launched bool) (Shim, error) {
	closeLog := func() {
		if rc != nil {
			_ = rc.Close()
		}
	}
	if h, ok := d.cached(addr); ok {
		if !h.conn.drainLog(d.shimLogger(h.conn.addr), rc) {
			closeLog()
		}
		return h, nil
	}
	c, err := d.dial(ctx, addr, launched)
	if err != nil {
		closeLog()
		return nil, err
	}
	d.mu.Lock()
	if prev, ok := d.conns[c.key]; ok && !isClosed(prev.done) {
		// Another Launch of the same pod won the race: use its conn.
		prev.refs++
		d.mu.Unlock()
		_ = c.client.Close()
		closeLog()
		return &handle{conn: prev, m: d}, nil
	}
	c.refs = 1
	d.conns[c.key] = c
	d.mu.Unlock()
	if !c.drainLog(d.shimLogger(c.addr), rc) {
		closeLog()
	}
	klog.FromContext(ctx).V(2).Info("Connected to shim", "address", c.addr.Address, logkeys.ShimPid, c.pid, "version", c.addr.Version)
	return &handle{conn: c, m: d}, nil
}

func (d *Driver) dial(ctx context.Context, addr Address, launched bool) (*conn, error) {
	nc, err := dialShim(ctx, addr.Address, launched)
	if err != nil {
		return nil, err
	}
	c := &conn{
		addr:    addr,
		key:     shimAddressKey(addr.Address),
		service: taskService(addr.Version),
		done:    make(chan struct{}),
	}
	c.client = ttrpc.NewClient(nc, ttrpc.WithOnClose(func() {
		close(c.done)
		d.forget(c)
	}))
	pid, err := c.connectInfo(ctx)
	if err != nil {
		_ = c.client.Close()
		if !launched && errors.Is(err, errdefs.ErrUnavailable) {
			return nil, fmt.Errorf("shim at %s does not answer: %w: %w", addr.Address, errdefs.ErrNotFound, err)
		}
		return nil, fmt.Errorf("connect to shim at %s: %w", addr.Address, err)
	}
	c.pid = int(pid)
	if c.pid == 0 {
		c.pid = readPidFile(addr.Bundle)
	}
	return c, nil
}

// forget drops a connection that ended, so the next Launch or Connect
// dials afresh, and stops its log drain.
func (d *Driver) forget(c *conn) {
	d.mu.Lock()
	if d.conns[c.key] == c {
		delete(d.conns, c.key)
	}
	d.mu.Unlock()
	c.stopLog()
}

// release drops one handle; the last one closes the connection.
func (d *Driver) release(c *conn) {
	d.mu.Lock()
	c.refs--
	last := c.refs == 0
	if last && d.conns[c.key] == c {
		delete(d.conns, c.key)
	}
	d.mu.Unlock()
	if last {
		_ = c.client.Close()
		c.stopLog()
	}
}

func (d *Driver) shimLogger(a Address) klog.Logger {
	return d.logger.WithValues(logkeys.ShimID, a.ShimID)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
