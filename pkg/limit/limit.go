// Package limit bounds how many operations of one kind run at once, so
// that a burst of pods (100 created together on a node) queues instead
// of overloading the CNI plugins, the shim launches or the Host Compute
// Service, and it exports how long operations waited.
package limit

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the queues' Prometheus series, shared by every Limiter.
type Metrics struct {
	wait    *prometheus.HistogramVec
	waiting *prometheus.GaugeVec
	running *prometheus.GaugeVec
}

// NewMetrics registers the queue metrics with reg; nil registers
// nothing.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wincri_queue_wait_seconds",
			Help:    "Time an operation waited for its turn, by queue (cni, shim_launch, hcs).",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"queue"}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wincri_queue_waiting",
			Help: "Operations waiting for their turn, by queue.",
		}, []string{"queue"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wincri_queue_running",
			Help: "Operations running, by queue.",
		}, []string{"queue"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.wait, m.waiting, m.running} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering queue metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Limiter lets at most n operations run at once; the others wait, in no
// particular order, until one ends or their context does. A nil Limiter
// lets everything run.
type Limiter struct {
	name  string
	slots chan struct{}

	wait    prometheus.Observer
	waiting prometheus.Gauge
	running prometheus.Gauge
}

// New returns the limiter of queue name, letting n run at once; n <= 0
// is no limit (nil). m may be nil.
func New(name string, n int, m *Metrics) *Limiter {
	if n <= 0 {
		return nil
	}
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	return &Limiter{
		name:    name,
		slots:   make(chan struct{}, n),
		wait:    m.wait.WithLabelValues(name),
		waiting: m.waiting.WithLabelValues(name),
		running: m.running.WithLabelValues(name),
	}
}

// Acquire waits for a turn and returns the function that ends it. It
// fails with ctx's error when ctx ends first.
func (l *Limiter) Acquire(ctx context.Context) (func(), error) {
	if l == nil {
		return func() {}, nil
	}
	start := time.Now()
	l.waiting.Inc()
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		l.waiting.Dec()
		l.wait.Observe(time.Since(start).Seconds())
		return nil, fmt.Errorf("waiting for a turn in the %s queue: %w", l.name, context.Cause(ctx))
	}
	l.waiting.Dec()
	l.wait.Observe(time.Since(start).Seconds())
	l.running.Inc()
	released := false
	return func() {
		if released {
			return
		}
		released = true
		l.running.Dec()
		<-l.slots
	}, nil
}

// Do runs f in a turn.
func (l *Limiter) Do(ctx context.Context, f func() error) error {
	release, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return f()
}
