// Command report prints hack/bench.sh density's table: for each runtime
// (a file of hack/density -json lines, one per round, named RUNTIME.jsonl)
// the median of its rounds, and the ratio of the first runtime to the
// second.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type figures map[string]float64

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// rows are the figures printed, in order, with their labels.
var rows = []struct{ key, label string }{
	{"pods", "pods"},
	{"ready_p50_ms", "time to Ready, p50 (ms)"},
	{"ready_p99_ms", "time to Ready, p99 (ms)"},
	{"total_ms", "all pods Ready (ms)"},
	{"delete_ms", "all pods deleted (ms)"},
	{"rss_before_mib", "runtime RSS before (MiB)"},
	{"rss_full_mib", "runtime RSS with the pods (MiB)"},
	{"rss_after_mib", "runtime RSS after (MiB)"},
}

func run(names []string, w io.Writer) error {
	if len(names) == 0 {
		return fmt.Errorf("usage: report DIR/RUNTIME [DIR/RUNTIME]")
	}
	var medians []figures
	for _, n := range names {
		m, err := median(n + ".jsonl")
		if err != nil {
			return err
		}
		medians = append(medians, m)
	}
	header := "| figure |"
	for _, n := range names {
		header += " " + filepath.Base(n) + " |"
	}
	if len(names) == 2 {
		header += " ratio |"
	}
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, "|"+strings.Repeat("---|", strings.Count(header, "|")-1))
	for _, r := range rows {
		line := "| " + r.label + " |"
		for _, m := range medians {
			line += fmt.Sprintf(" %.1f |", m[r.key])
		}
		if len(medians) == 2 {
			if d := medians[1][r.key]; d != 0 {
				line += fmt.Sprintf(" %.2f |", medians[0][r.key]/d)
			} else {
				line += " - |"
			}
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// median reads a runtime's rounds and keeps each figure's median.
func median(path string) (figures, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var fig figures
		if err := json.Unmarshal(sc.Bytes(), &fig); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for k, v := range fig {
			all[k] = append(all[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := figures{}
	for k, vs := range all {
		slices.Sort(vs)
		out[k] = vs[len(vs)/2]
	}
	return out, nil
}
