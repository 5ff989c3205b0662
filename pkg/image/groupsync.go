package image

import "sync"

// groupSync runs a file system sync for many callers at once, as a
// database's group commit does: a caller needs a sync that starts after
// its own writes, so callers that arrive while one runs share the next
// one instead of each queueing a sync of its own. With one syncfs per
// layer and eight layers finishing together, that is two syncs instead
// of eight, each of which would wait for all the dirty data.
type groupSync struct {
	mu   sync.Mutex
	cond *sync.Cond
	// started and finished count the syncs; running is set while one
	// runs; errs holds the outcome of each recent sync by number.
	started, finished uint64
	running           bool
	errs              map[uint64]error
	waiting           map[uint64]int
}

// do returns the outcome of a run of fn that started after do was
// called.
func (g *groupSync) do(fn func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cond == nil {
		g.cond = &sync.Cond{L: &g.mu}
		g.errs, g.waiting = map[uint64]error{}, map[uint64]int{}
	}
	// The sync that serves this caller: the next one to start.
	mine := g.started + 1
	g.waiting[mine]++
	for g.finished < mine {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		n := g.started
		g.mu.Unlock()
		err := fn()
		g.mu.Lock()
		g.running = false
		g.finished = n
		g.errs[n] = err
		g.cond.Broadcast()
	}
	err := g.errs[mine]
	if g.waiting[mine]--; g.waiting[mine] == 0 {
		delete(g.waiting, mine)
		delete(g.errs, mine)
	}
	return err
}
