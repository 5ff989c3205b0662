// Package benchstat reads the figures the project's benches write —
// critest -benchmark's results files — and computes the percentiles and
// medians their reports print.
package benchstat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// ResultsSet is the subset of critest's LifecycleBenchmarksResultsSet
// (sigs.k8s.io/cri-tools pkg/benchmark/util.go) that the figures come
// from: one datapoint per sample, one duration per operation.
type ResultsSet struct {
	OperationsNames []string    `json:"operationsNames"`
	NumParallel     int         `json:"numParallel"`
	Datapoints      []Datapoint `json:"datapoints"`
}

// Datapoint is one sample: the durations of its operations, in order.
type Datapoint struct {
	OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
}

// Durations are the samples of each operation, sorted. A short datapoint
// leaves the operations it lacks out instead of shifting the others.
func (rs ResultsSet) Durations() map[string][]time.Duration {
	out := make(map[string][]time.Duration, len(rs.OperationsNames))
	for i, name := range rs.OperationsNames {
		d := out[name]
		for _, dp := range rs.Datapoints {
			if i < len(dp.OperationsDurationsNs) {
				d = append(d, time.Duration(dp.OperationsDurationsNs[i]))
			}
		}
		slices.Sort(d)
		out[name] = d
	}
	return out
}

// File is one results file of a critest output directory.
type File struct {
	Name string // the file's base name without .json
	ResultsSet
}

// LoadDir reads every results file of a critest -benchmark output
// directory, by name; JSON files that are not results are left out.
func LoadDir(dir string) ([]File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var rs ResultsSet
		if err := json.Unmarshal(b, &rs); err != nil || len(rs.OperationsNames) == 0 {
			continue
		}
		out = append(out, File{Name: filepath.Base(p[:len(p)-len(".json")]), ResultsSet: rs})
	}
	return out, nil
}

// Operations merges the durations of every operation of files, sorted.
func Operations(files []File) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for _, f := range files {
		for name, d := range f.Durations() {
			out[name] = append(out[name], d...)
		}
	}
	for _, d := range out {
		slices.Sort(d)
	}
	return out
}

// Percentile is the nearest-rank p-th percentile (0-100) of sorted
// values; the zero value for none.
func Percentile[T any](sorted []T, p int) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	rank := (p*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// Median is the median of values, which it sorts; NaN-free input only.
func Median(values []float64) (float64, error) {
	if len(values) == 0 {
		return 0, fmt.Errorf("median of no values")
	}
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2], nil
	}
	return (values[n/2-1] + values[n/2]) / 2, nil
}
