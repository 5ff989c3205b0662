package image

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/wincri/wincri/pkg/logkeys"
)

// transferProgress counts what one layer (or a manifest fetch) has done.
type transferProgress struct {
	downloaded  atomic.Int64
	unpacked    atomic.Int64
	downloading atomic.Int32
	unpacking   atomic.Int32
}

// phase marks p as downloading or unpacking until the returned func runs.
func (p *transferProgress) phase(unpack bool) func() {
	n := &p.downloading
	if unpack {
		n = &p.unpacking
	}
	n.Add(1)
	return func() { n.Add(-1) }
}

// Progress is logged at this interval.
const progressLogInterval = 5 * time.Second

// watchdog fails a pull that made no progress at all, in any of its
// layers, for the configured timeout. A slow pull that keeps moving is
// never failed: Windows base layers take minutes to unpack, and a plain
// deadline would fire in the middle of them.
type watchdog struct {
	ref     string
	timeout time.Duration
	cancel  context.CancelCauseFunc

	mu      sync.Mutex
	tracked []*transferProgress
}

func (w *watchdog) track(p *transferProgress) {
	w.mu.Lock()
	w.tracked = append(w.tracked, p)
	w.mu.Unlock()
}

type totals struct {
	downloaded, unpacked   int64
	downloading, unpacking bool
}

func (w *watchdog) sum() totals {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t totals
	for _, p := range w.tracked {
		t.downloaded += p.downloaded.Load()
		t.unpacked += p.unpacked.Load()
		t.downloading = t.downloading || p.downloading.Load() > 0
		t.unpacking = t.unpacking || p.unpacking.Load() > 0
	}
	return t
}

// run checks progress until ctx ends.
func (w *watchdog) run(ctx context.Context, log logr.Logger) {
	interval := min(max(w.timeout/10, 10*time.Millisecond), time.Second)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	last, lastChange, lastLog := w.sum(), start, start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			cur := w.sum()
			if cur.downloaded != last.downloaded || cur.unpacked != last.unpacked {
				last, lastChange = cur, now
			}
			if now.Sub(lastLog) >= progressLogInterval {
				secs := now.Sub(start).Seconds()
				log.V(2).Info("Pull progress", logkeys.ImageRef, w.ref,
					"downloadedBytes", cur.downloaded, "unpackedBytes", cur.unpacked,
					"downloadMBps", fmt.Sprintf("%.1f", float64(cur.downloaded)/secs/1e6),
					"unpackMBps", fmt.Sprintf("%.1f", float64(cur.unpacked)/secs/1e6))
				lastLog = now
			}
			if now.Sub(lastChange) >= w.timeout {
				w.cancel(fmt.Errorf("pull of %s made no %s progress for %s: %w",
					w.ref, stalledPhase(cur), w.timeout, context.DeadlineExceeded))
				return
			}
		}
	}
}

func stalledPhase(t totals) string {
	switch {
	case t.downloading && t.unpacking:
		return "download or unpack"
	case t.unpacking:
		return "unpack"
	default:
		// Waiting for a registry to answer is downloading too.
		return "download"
	}
}
