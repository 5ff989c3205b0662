package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/klog/v2"
)

// trashDir is the trash's directory in each tree.
const trashDir = "trash"

// trashParallelism bounds the background removals running at once.
const trashParallelism = 2

// trash removes directories off the request path: a directory is moved
// into the trash of its tree, one rename on its own file system, and
// deleted in the background, as containerd leaves snapshot removal to
// its garbage collector. A crash leaves the trash's content for the next
// start to empty (Recover). What cannot be moved is removed at once.
type trash struct {
	// bases are the trees (wincri's root and state directories) whose
	// directories the trash takes, each into <base>/trash.
	bases  []string
	logger klog.Logger
	sem    chan struct{}
	wg     sync.WaitGroup
}

func newTrash(logger klog.Logger, bases ...string) *trash {
	return &trash{bases: bases, logger: logger, sem: make(chan struct{}, trashParallelism)}
}

// dirFor is the trash of the tree holding path; "" for none.
func (t *trash) dirFor(path string) string {
	for _, b := range t.bases {
		if rel, err := filepath.Rel(b, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			return filepath.Join(b, trashDir)
		}
	}
	return ""
}

// remove makes path gone for every later reader; its content is deleted
// in the background. A path that does not exist is fine.
func (t *trash) remove(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dir := t.dirFor(path)
	if dir == "" {
		return os.RemoveAll(path)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return os.RemoveAll(path)
	}
	dst := filepath.Join(dir, newID())
	if err := os.Rename(path, dst); err != nil {
		return os.RemoveAll(path)
	}
	t.removeLater(dst)
	return nil
}

func (t *trash) removeLater(path string) {
	t.wg.Go(func() {
		t.sem <- struct{}{}
		defer func() { <-t.sem }()
		if err := os.RemoveAll(path); err != nil {
			t.logger.Error(err, "Removing a deleted directory failed; the next start tries again", "path", path)
		}
	})
}

// empty deletes, in the background, what the trash holds from before.
func (t *trash) empty() {
	for _, b := range t.bases {
		dir := filepath.Join(b, trashDir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			t.removeLater(filepath.Join(dir, e.Name()))
		}
	}
}

// wait waits for the background removals started so far.
func (t *trash) wait() { t.wg.Wait() }
