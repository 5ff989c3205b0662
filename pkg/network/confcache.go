package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// confRecheck is how often the conf_dir is looked at for a change. Within
// it, Setup and Status use what was read last: the hot path neither lists
// the directory nor parses its files.
const confRecheck = time.Second

// confCache keeps the network read from conf_dir until the directory
// changes: a file added, removed, rewritten (its size or modification
// time) or renamed. It is checked at most every recheck.
type confCache struct {
	dir     string
	recheck time.Duration
	now     func() time.Time

	mu      sync.Mutex
	checked time.Time
	stamp   string
	loaded  bool
	n       *network
	err     error
	// loads counts the directory's reads, for tests.
	loads int
}

func newConfCache(dir string) *confCache {
	return &confCache{dir: dir, recheck: confRecheck, now: time.Now}
}

// get returns the network of conf_dir: nil with no error when it has no
// candidate file, a NotReadyError when it cannot be used.
func (c *confCache) get() (*network, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.loaded && now.Sub(c.checked) < c.recheck {
		return c.n, c.err
	}
	c.checked = now
	stamp := dirStamp(c.dir)
	if c.loaded && stamp == c.stamp {
		return c.n, c.err
	}
	c.n, c.err = loadConfDir(c.dir)
	c.stamp, c.loaded = stamp, true
	c.loads++
	return c.n, c.err
}

// dirStamp sums up what of dir decides the network: the candidate files'
// names, sizes and modification times. An unreadable directory stamps
// as its error, so that it is read again once readable.
func dirStamp(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		if !hasConfExtension(e.Name()) {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			fmt.Fprintf(&b, "%s:%v;", e.Name(), err)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return b.String()
}

func hasConfExtension(name string) bool {
	for _, ext := range confExtensions {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
