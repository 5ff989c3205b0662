package stats

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// DefaultDiskInterval is how often DiskUsage re-measures a directory.
const DefaultDiskInterval = time.Minute

// forgetAfter is how many intervals a directory nobody asks for stays
// measured.
const forgetAfter = 5

// firstMeasureBudget bounds the one walk a request may do: that of a
// directory asked for the first time, so that a fresh container has
// figures at once. A larger tree is left to the background.
const firstMeasureBudget = 200 * time.Millisecond

// errBudget ends a walk that ran out of time.
var errBudget = errors.New("measurement over its time budget")

// DiskUsage measures directories (containers' writable layers) and
// answers from its cache. Only the first request for a directory walks
// it, within firstMeasureBudget; Run re-measures in the background. It
// is safe for concurrent use.
type DiskUsage struct {
	interval time.Duration
	walk     func(dir string, deadline time.Time) (Filesystem, error)
	// kick wakes Run for a directory asked for the first time.
	kick chan struct{}

	mu      sync.Mutex
	entries map[string]*diskEntry
}

type diskEntry struct {
	usage    Filesystem
	measured bool
	asked    time.Time
}

// NewDiskUsage returns a cache that re-measures every interval
// (DefaultDiskInterval when 0).
func NewDiskUsage(interval time.Duration) *DiskUsage {
	if interval <= 0 {
		interval = DefaultDiskInterval
	}
	return &DiskUsage{interval: interval, walk: measure, kick: make(chan struct{}, 1), entries: map[string]*diskEntry{}}
}

// Get returns the last measurement of dir and whether there is one.
// The first request for a directory measures it there and then, once
// and within firstMeasureBudget; when that is not enough (or another
// request is at it), the background measures it next.
func (d *DiskUsage) Get(dir string) (Filesystem, bool) {
	d.mu.Lock()
	e, ok := d.entries[dir]
	if !ok {
		e = &diskEntry{}
		d.entries[dir] = e
	}
	e.asked = time.Now()
	usage, measured := e.usage, e.measured
	d.mu.Unlock()
	if ok {
		return usage, measured
	}
	u, err := d.walk(dir, time.Now().Add(firstMeasureBudget))
	if err != nil {
		select {
		case d.kick <- struct{}{}:
		default:
		}
		return Filesystem{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.entries[dir]; ok && !e.measured {
		e.usage, e.measured = u, true
	}
	return u, true
}

// Run measures the directories asked for until ctx ends: new ones at
// once, all of them every interval.
func (d *DiskUsage) Run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
			d.refresh(ctx, true)
		case <-t.C:
			d.refresh(ctx, false)
		}
	}
}

// refresh measures every directory (only unmeasured ones when onlyNew)
// and forgets those nobody asked for lately.
func (d *DiskUsage) refresh(ctx context.Context, onlyNew bool) {
	stale := time.Now().Add(-forgetAfter * d.interval)
	var dirs []string
	d.mu.Lock()
	for dir, e := range d.entries {
		switch {
		case e.asked.Before(stale):
			delete(d.entries, dir)
		case !onlyNew || !e.measured:
			dirs = append(dirs, dir)
		}
	}
	d.mu.Unlock()
	for _, dir := range dirs {
		if ctx.Err() != nil {
			return
		}
		u, err := d.walk(dir, time.Time{})
		if err != nil {
			klog.FromContext(ctx).V(4).Info("Measuring a writable layer failed", "dir", dir, "err", err)
			continue
		}
		d.mu.Lock()
		if e, ok := d.entries[dir]; ok {
			e.usage, e.measured = u, true
		}
		d.mu.Unlock()
	}
}

// measure adds up the sizes and counts the inodes under dir, giving up
// at deadline (never when it is zero). Files that vanish during the
// walk are skipped: a running container changes its layer all the time.
func measure(dir string, deadline time.Time) (Filesystem, error) {
	var u Filesystem
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if !deadline.IsZero() && time.Now().After(deadline) {
			return errBudget
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		u.InodesUsed++
		if info.Mode().IsRegular() || info.IsDir() {
			u.UsedBytes += uint64(info.Size())
		}
		return nil
	})
	if err != nil {
		return Filesystem{}, err
	}
	if _, err := os.Stat(dir); err != nil {
		return Filesystem{}, err
	}
	u.At = time.Now()
	return u, nil
}
