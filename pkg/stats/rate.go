package stats

import (
	"sync"
	"time"
)

// Rates derives CPU usage rates from consecutive cumulative samples,
// keyed by task. It is safe for concurrent use.
type Rates struct {
	mu   sync.Mutex
	last map[string]cpuPoint
}

type cpuPoint struct {
	at    time.Time
	usage uint64
	rate  uint64
}

// NewRates returns an empty Rates.
func NewRates() *Rates { return &Rates{last: map[string]cpuPoint{}} }

// Apply sets s.CPU.UsageNanoCores from the previous sample of key and
// remembers s for the next call. A sample no newer than the previous
// one (two callers racing, or a clock step) reports the previous rate;
// a counter that went backwards (a restarted task) starts over.
func (r *Rates) Apply(key string, s *Sample) {
	if s == nil || s.CPU == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, ok := r.last[key]
	switch {
	case !ok || s.CPU.UsageCoreNanoSeconds < prev.usage:
		s.CPU.UsageNanoCores = 0
	case !s.At.After(prev.at):
		s.CPU.UsageNanoCores = prev.rate
		return
	default:
		elapsed := uint64(s.At.Sub(prev.at).Nanoseconds())
		delta := s.CPU.UsageCoreNanoSeconds - prev.usage
		// delta / elapsed cores, in nanocores; elapsed is at least 1ns.
		s.CPU.UsageNanoCores = uint64(float64(delta) / float64(elapsed) * 1e9)
	}
	r.last[key] = cpuPoint{at: s.At, usage: s.CPU.UsageCoreNanoSeconds, rate: s.CPU.UsageNanoCores}
}

// Forget drops the keys for which keep is false, so that removed tasks
// do not accumulate.
func (r *Rates) Forget(keep func(key string) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.last {
		if !keep(k) {
			delete(r.last, k)
		}
	}
}
