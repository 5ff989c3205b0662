package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
)

// Environment of a shim invocation. runc-v2 takes the events address
// only from TTRPC_ADDRESS.
const (
	envTTRPCAddress = "TTRPC_ADDRESS"
	envGRPCAddress  = "GRPC_ADDRESS"
	envNamespace    = "NAMESPACE"
)

// startWaitDelay bounds how long a finished start or delete helper may
// keep its output pipes open through a child it spawned.
const startWaitDelay = 5 * time.Second

// Launch starts the shim for a task, or finds the pod's running shim:
// for a container of a pod, the shim's start answers with the address
// of the shim that already serves the pod, and the returned Shim shares
// that shim's connection.
func (d *Driver) Launch(ctx context.Context, opts LaunchOpts) (Shim, error) {
	if opts.ID == "" || opts.Binary == "" || opts.Bundle == "" {
		return nil, fmt.Errorf("launch shim: id, binary and bundle are required: %w", errdefs.ErrInvalidArgument)
	}
	if d.isClosed() {
		return nil, fmt.Errorf("launch shim for %s: shim manager is closed: %w", opts.ID, errdefs.ErrUnavailable)
	}
	bin, err := lookShim(opts.Binary, d.selfDir)
	if err != nil {
		return nil, err
	}
	if err := checkBundle(opts.Bundle); err != nil {
		return nil, err
	}
	shimID := opts.PodID
	if shimID == "" {
		shimID = opts.ID
	}
	logger := klog.FromContext(ctx).WithValues(logkeys.PodSandboxID, opts.ID, logkeys.ShimID, shimID)

	// The log FIFO must exist, with a reader, before the shim starts:
	// runc-v2 opens it for writing first thing and blocks until then.
	logStream, err := openShimLog(d.opts.Namespace, shimID, opts.Bundle)
	if err != nil {
		return nil, fmt.Errorf("shim log of %s: %w: %w", opts.ID, errdefs.ErrFailedPrecondition, err)
	}
	release, err := d.opts.LaunchLimiter.Acquire(ctx)
	if err != nil {
		if logStream != nil {
			_ = logStream.Close()
		}
		return nil, fmt.Errorf("launch shim for %s: %w", opts.ID, err)
	}
	addr, err := d.start(ctx, bin, opts)
	release()
	if err != nil {
		if logStream != nil {
			_ = logStream.Close()
		}
		return nil, err
	}
	addr.ShimID, addr.Bundle = shimID, opts.Bundle
	logger.V(2).Info("Shim started", "address", addr.Address, "version", addr.Version)
	// Kept in the bundle before anything else, as containerd keeps its
	// bootstrap.json: a crash before the caller records the address
	// leaves the running shim findable (LaunchedAddress).
	if err := writeLaunchedAddress(opts.Bundle, addr); err != nil {
		logger.Error(err, "Keeping the shim's address in its bundle")
	}
	s, err := d.attach(ctx, addr, logStream, true)
	if err == nil && d.opts.PriorityClass != 0 {
		// The shim runs either way; a class it did not get is logged.
		if perr := setPriorityClass(s.Pid(), d.opts.PriorityClass); perr != nil {
			logger.Error(perr, "Setting the shim's priority class", logkeys.ShimPid, s.Pid())
		}
	}
	return s, err
}

// start runs `<shim> ... -id ID start` in the bundle and parses its reply.
func (d *Driver) start(ctx context.Context, bin string, opts LaunchOpts) (Address, error) {
	params, err := encodeBootstrapParams(bootstrapInput{
		ID:            opts.ID,
		Namespace:     d.opts.Namespace,
		TTRPCAddress:  d.eventsAdr,
		GRPCAddress:   d.opts.Address,
		PublishBinary: d.opts.PublishBinary,
		SocketDir:     d.socketDir,
		Options:       opts.Options,
		Debug:         d.opts.Debug,
	})
	if err != nil {
		return Address{}, err
	}
	cmd := d.command(ctx, bin, opts.ID, "", "start")
	cmd.Dir = opts.Bundle
	// Both shims read stdin to EOF; a bytes.Reader gives them EOF.
	cmd.Stdin = bytes.NewReader(params)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Address{}, d.helperError(ctx, "start", opts.ID, &stderr, err)
	}
	addr, err := parseStartReply(stdout.Bytes())
	if err != nil {
		return Address{}, fmt.Errorf("shim %s for %s: %w", bin, opts.ID, err)
	}
	return addr, nil
}

// Cleanup runs the delete subcommand for a shim that is gone. runc-v2
// force-deletes the runc container, unmounts its rootfs and reports the
// recorded exit.
func (d *Driver) Cleanup(ctx context.Context, binary, bundle, id string) (ExitStatus, error) {
	if binary == "" || bundle == "" || id == "" {
		return ExitStatus{}, fmt.Errorf("clean up shim: binary, bundle and id are required: %w", errdefs.ErrInvalidArgument)
	}
	bin, err := lookShim(binary, d.selfDir)
	if err != nil {
		return ExitStatus{}, err
	}
	// Without its bundle the shim finds nothing to clean up.
	if err := checkBundle(bundle); err != nil {
		return ExitStatus{}, err
	}
	cmd := d.command(ctx, bin, id, bundle, "delete")
	if deleteInBundle {
		cmd.Dir = bundle
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return ExitStatus{}, d.helperError(ctx, "delete", id, &stderr, err)
	}
	if s := bytes.TrimSpace(stderr.Bytes()); len(s) > 0 {
		klog.FromContext(ctx).Info("Shim cleanup warnings", logkeys.TaskID, id, "stderr", string(s))
	}
	// The v2 and v3 DeleteResponse are the same message.
	var resp task.DeleteResponse
	if err := proto.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return ExitStatus{}, fmt.Errorf("decode shim delete reply for %s: %w: %w", id, errdefs.ErrInvalidArgument, err)
	}
	return ExitStatus{Pid: resp.GetPid(), ExitStatus: resp.GetExitStatus(), ExitedAt: toTime(resp.GetExitedAt())}, nil
}

// command builds a shim invocation with the flags and environment both
// runc-v2 and runhcs expect.
func (d *Driver) command(ctx context.Context, bin, id, bundle, action string) *exec.Cmd {
	args := []string{
		"-namespace", d.opts.Namespace,
		"-address", d.opts.Address,
		"-publish-binary", d.opts.PublishBinary,
		"-id", id,
	}
	if bundle != "" {
		args = append(args, "-bundle", bundle)
	}
	if d.opts.Debug {
		args = append(args, "-debug")
	}
	args = append(args, action)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(cmd.Environ(),
		envTTRPCAddress+"="+d.eventsAdr,
		envGRPCAddress+"="+d.opts.Address,
		envNamespace+"="+d.opts.Namespace,
	)
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = startWaitDelay
	return cmd
}

func (d *Driver) helperError(ctx context.Context, action, id string, stderr *bytes.Buffer, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("shim %s for %s: %w", action, id, ctx.Err())
	}
	msg := bytes.TrimSpace(stderr.Bytes())
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	return fmt.Errorf("shim %s for %s failed: %s: %w: %w", action, id, msg, errdefs.ErrUnavailable, err)
}

func checkBundle(bundle string) error {
	fi, err := os.Stat(bundle)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bundle %s: %w", bundle, errdefs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("bundle %s: %w: %w", bundle, errdefs.ErrFailedPrecondition, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("bundle %s is not a directory: %w", bundle, errdefs.ErrInvalidArgument)
	}
	return nil
}

func (d *Driver) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// launchedAddressFile holds, in a bundle, the address of the shim
// launched for it.
const launchedAddressFile = "shim-address.json"

func writeLaunchedAddress(bundle string, addr Address) error {
	data, err := json.Marshal(addr)
	if err != nil {
		return err
	}
	tmp := filepath.Join(bundle, launchedAddressFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(bundle, launchedAddressFile))
}

// LaunchedAddress is the address of the shim Launch started for bundle,
// for a caller that crashed before it recorded it; an error wrapping
// errdefs.ErrNotFound when no shim was launched there.
func LaunchedAddress(bundle string) (Address, error) {
	data, err := os.ReadFile(filepath.Join(bundle, launchedAddressFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Address{}, fmt.Errorf("no shim was launched for bundle %s: %w", bundle, errdefs.ErrNotFound)
	}
	if err != nil {
		return Address{}, err
	}
	var addr Address
	if err := json.Unmarshal(data, &addr); err != nil || addr.Address == "" {
		return Address{}, fmt.Errorf("shim address in %s: %v: %w", bundle, err, errdefs.ErrDataLoss)
	}
	return addr, nil
}
