package network

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
)

// namespaces creates and removes the pods' network namespaces. The
// implementation is the only OS-specific part of the package.
type namespaces interface {
	// Create makes the pod's namespace and returns what CNI gets as
	// CNI_NETNS. It fails with ErrAlreadyExists when one exists.
	Create(ctx context.Context, podID string) (string, error)
	// Path returns the pod's namespace; ErrNotFound when it has none.
	Path(podID string) (string, error)
	// Remove deletes the pod's namespace; nil when it has none.
	Remove(ctx context.Context, podID string) error
	// List returns the IDs of the pods that have a namespace.
	List() ([]string, error)
}

// nsDir is the directory with one entry per pod namespace: the netns
// bind mount on Linux, a record of the HCN namespace id on Windows. It
// is how a restarted wincri finds the namespaces it made.
type nsDir struct {
	dir string
}

func (d nsDir) entry(podID string) string { return filepath.Join(d.dir, podID) }

// List returns the pod IDs with an entry, sorted.
func (d nsDir) List() ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && validID.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// reserve creates the pod's entry, failing with ErrAlreadyExists when
// there is one: a second Setup of a pod must not share or replace the
// first one's namespace.
func (d nsDir) reserve(podID string, perm os.FileMode) (*os.File, error) {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, fmt.Errorf("network namespace directory: %v: %w", err, errdefs.ErrUnavailable)
	}
	f, err := os.OpenFile(d.entry(podID), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrAlreadyExists)
	}
	if err != nil {
		return nil, fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return f, nil
}

// readRecord returns the content of the pod's entry, trimmed; ErrNotFound
// when there is no entry.
func (d nsDir) readRecord(podID string) (string, error) {
	b, err := os.ReadFile(d.entry(podID))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return strings.TrimSpace(string(b)), nil
}

// removeEntry deletes the pod's entry; nil when there is none.
func (d nsDir) removeEntry(podID string) error {
	if err := os.Remove(d.entry(podID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return nil
}
