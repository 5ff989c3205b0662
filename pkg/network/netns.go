package network

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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
