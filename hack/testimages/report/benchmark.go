package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// resultsSet is the subset of critest's LifecycleBenchmarksResultsSet
// (pkg/benchmark) that the figures are computed from: one datapoint per
// sample, one duration per operation.
type resultsSet struct {
	OperationsNames []string `json:"operationsNames"`
	NumParallel     int      `json:"numParallel"`
	Datapoints      []struct {
		OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
	} `json:"datapoints"`
}

// opStats are the figures of one operation over all samples.
type opStats struct {
	name                string
	n                   int
	mean, p50, p95, max time.Duration
}

func statsOf(rs resultsSet) []opStats {
	out := make([]opStats, 0, len(rs.OperationsNames))
	for i, name := range rs.OperationsNames {
		var d []int64
		for _, dp := range rs.Datapoints {
			if i < len(dp.OperationsDurationsNs) {
				d = append(d, dp.OperationsDurationsNs[i])
			}
		}
		s := opStats{name: name, n: len(d)}
		if len(d) > 0 {
			slices.Sort(d)
			var sum int64
			for _, v := range d {
				sum += v
			}
			s.mean = time.Duration(sum / int64(len(d)))
			s.p50 = time.Duration(percentile(d, 50))
			s.p95 = time.Duration(percentile(d, 95))
			s.max = time.Duration(d[len(d)-1])
		}
		out = append(out, s)
	}
	return out
}

// percentile of sorted values, nearest rank.
func percentile(sorted []int64, p int) int64 {
	rank := (p*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// writeBenchmarks prints one table per results file of dir; it returns how
// many files it printed.
func writeBenchmarks(w io.Writer, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	printed := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return printed, err
		}
		var rs resultsSet
		if err := json.Unmarshal(b, &rs); err != nil || len(rs.OperationsNames) == 0 {
			continue // not a benchmark results file
		}
		fmt.Fprintf(w, "%s (%d samples, %d in parallel)\n", strings.TrimSuffix(filepath.Base(f), ".json"), len(rs.Datapoints), rs.NumParallel)
		fmt.Fprintf(w, "  %-28s %5s %10s %10s %10s %10s\n", "operation", "n", "mean", "p50", "p95", "max")
		for _, s := range statsOf(rs) {
			fmt.Fprintf(w, "  %-28s %5d %10s %10s %10s %10s\n", s.name, s.n, ms(s.mean), ms(s.p50), ms(s.p95), ms(s.max))
		}
		printed++
	}
	return printed, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
