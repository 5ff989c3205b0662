package main

import (
	"fmt"
	"io"
	"time"

	"github.com/wincri/wincri/internal/benchstat"
)

// opStats are the figures of one operation over all samples.
type opStats struct {
	name                string
	n                   int
	mean, p50, p95, max time.Duration
}

func statsOf(rs benchstat.ResultsSet) []opStats {
	durations := rs.Durations()
	out := make([]opStats, 0, len(rs.OperationsNames))
	for _, name := range rs.OperationsNames {
		d := durations[name]
		s := opStats{name: name, n: len(d)}
		if len(d) > 0 {
			var sum time.Duration
			for _, v := range d {
				sum += v
			}
			s.mean = sum / time.Duration(len(d))
			s.p50 = benchstat.Percentile(d, 50)
			s.p95 = benchstat.Percentile(d, 95)
			s.max = d[len(d)-1]
		}
		out = append(out, s)
	}
	return out
}

// writeBenchmarks prints one table per results file of dir; it returns how
// many files it printed.
func writeBenchmarks(w io.Writer, dir string) (int, error) {
	files, err := benchstat.LoadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, f := range files {
		fmt.Fprintf(w, "%s (%d samples, %d in parallel)\n", f.Name, len(f.Datapoints), f.NumParallel)
		fmt.Fprintf(w, "  %-28s %5s %10s %10s %10s %10s\n", "operation", "n", "mean", "p50", "p95", "max")
		for _, s := range statsOf(f.ResultsSet) {
			fmt.Fprintf(w, "  %-28s %5d %10s %10s %10s %10s\n", s.name, s.n, ms(s.mean), ms(s.p50), ms(s.p95), ms(s.max))
		}
	}
	return len(files), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
