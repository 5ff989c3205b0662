package crilog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"
)

// Permissions of what File creates; the same as containerd's CRI
// plugin, so that node log collectors that read those work alike.
const (
	logFileMode = 0o640
	logDirMode  = 0o755
)

// File is a container's CRI log file. Both streams write through it, each
// record in one write under one lock, so records of stdout and stderr
// never mix; Reopen swaps the file between two records, so nothing is
// lost or written twice across a rotation.
//
// The file is opened through an os.Root of the log directory: whatever
// symlinks appear in the directory later, the logger never writes
// outside it. On Windows os.Root opens with FILE_SHARE_DELETE, which
// kubelet's rename during rotation needs.
type File struct {
	dir, name string
	logger    klog.Logger
	now       func() time.Time

	mu      sync.Mutex
	f       *os.File
	buf     []byte
	failing bool
	closed  bool
}

// OpenFile opens (creating it, dir and the directories between, if
// needed) the log file name, relative to the log directory dir, for
// appending. name must be local (see ResolveLogPath); one that escapes
// dir is errdefs.ErrInvalidArgument.
func OpenFile(ctx context.Context, dir, name string) (*File, error) {
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("log path %q is not inside log directory %q: %w", name, dir, errdefs.ErrInvalidArgument)
	}
	lf := &File{
		dir:    dir,
		name:   filepath.Clean(name),
		logger: klog.FromContext(ctx),
		now:    time.Now,
	}
	f, err := lf.open()
	if err != nil {
		return nil, err
	}
	lf.f = f
	return lf, nil
}

func (lf *File) open() (*os.File, error) {
	// kubelet creates the pod's log directory, crictl users may not; the
	// directory is the runtime's trusted input, so create it like
	// containerd does.
	if err := os.MkdirAll(lf.dir, logDirMode); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	// A fresh Root per open: holding the directory open for the life of
	// the container would keep kubelet from removing it on Windows.
	root, err := os.OpenRoot(lf.dir)
	if err != nil {
		return nil, fmt.Errorf("open log directory: %w", err)
	}
	defer root.Close()
	if parent := filepath.Dir(lf.name); parent != "." {
		if err := root.MkdirAll(parent, logDirMode); err != nil {
			return nil, fmt.Errorf("create log file directory: %w", err)
		}
	}
	f, err := root.OpenFile(lf.name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, logFileMode)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return f, nil
}

// Path is the log file's path.
func (lf *File) Path() string { return filepath.Join(lf.dir, lf.name) }

// WriteRecord writes one record stamped with the current time. The time
// is taken under the lock, so timestamps never go backwards in the file.
// A failed write is logged once per run of failures and returned; the
// record is dropped.
func (lf *File) WriteRecord(stream Stream, partial bool, content []byte) error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.closed {
		return fmt.Errorf("write %s record: log file closed: %w", stream, errdefs.ErrFailedPrecondition)
	}
	lf.buf = AppendRecord(lf.buf[:0], Record{Time: lf.now(), Stream: stream, Partial: partial, Content: content})
	_, err := lf.f.Write(lf.buf)
	if err != nil {
		if !lf.failing {
			lf.logger.Error(err, "Writing container log failed; dropping records until it works again", "path", lf.Path())
		}
		lf.failing = true
		return fmt.Errorf("write %s record: %w", stream, err)
	}
	if lf.failing {
		lf.logger.Info("Writing container log works again", "path", lf.Path())
		lf.failing = false
	}
	return nil
}

// Reopen opens the log path anew and closes the file written so far, as
// kubelet expects after it renamed the file to rotate it. When the new
// file cannot be opened the old one stays in use, so no record is lost.
func (lf *File) Reopen() error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.closed {
		return fmt.Errorf("reopen log file: closed: %w", errdefs.ErrFailedPrecondition)
	}
	f, err := lf.open()
	if err != nil {
		return err
	}
	old := lf.f
	lf.f = f
	if err := old.Close(); err != nil {
		lf.logger.Error(err, "Closing rotated container log failed", "path", lf.Path())
	}
	return nil
}

// Close closes the file; later writes fail with ErrFailedPrecondition.
func (lf *File) Close() error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.closed {
		return nil
	}
	lf.closed = true
	if err := lf.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("close log file: %w", err)
	}
	return nil
}
