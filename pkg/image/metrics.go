package image

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the image service's Prometheus series.
type metrics struct {
	pullBytes    prometheus.Counter
	pullDuration *prometheus.HistogramVec
	unpack       prometheus.Histogram
}

// Size classes of pulled images, by their unpacked size: a Windows base
// image is several GB, a Linux one tens of MB.
const (
	sizeSmall  = "lt100MB"
	sizeMedium = "100MB-1GB"
	sizeLarge  = "gt1GB"
)

func sizeClass(bytes int64) string {
	switch {
	case bytes < 100<<20:
		return sizeSmall
	case bytes < 1<<30:
		return sizeMedium
	default:
		return sizeLarge
	}
}

// newMetrics registers the series with reg; nil registers nothing.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		pullBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wincri_image_pull_bytes_total",
			Help: "Bytes of layers downloaded by image pulls.",
		}),
		pullDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wincri_image_pull_duration_seconds",
			Help:    "Duration of successful image pulls, by the image's unpacked size (" + sizeSmall + ", " + sizeMedium + ", " + sizeLarge + ").",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 2400},
		}, []string{"size"}),
		unpack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wincri_image_unpack_duration_seconds",
			Help:    "Duration of one layer's unpack (import, on Windows).",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.pullBytes, m.pullDuration, m.unpack} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering image metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) pulled(downloaded, size int64, took time.Duration) {
	m.pullBytes.Add(float64(downloaded))
	m.pullDuration.WithLabelValues(sizeClass(size)).Observe(took.Seconds())
}
