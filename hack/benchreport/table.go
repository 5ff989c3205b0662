package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/wincri/wincri/internal/benchstat"
)

// opOrder is critest's order of operations; others follow by name.
var opOrder = []string{
	"CreatePod", "StatusPod", "StopPod", "RemovePod",
	"CreateContainer", "StartContainer", "StatusContainer", "StopContainer", "RemoveContainer",
	"PullImage", "StatusImage", "RemoveImage", "ListImages",
}

// opTargets are the p50 ratio targets (wincri / containerd) stricter than
// every operation's 1.0.
var opTargets = map[string]float64{"CreatePod": 0.75, "PullImage": 0.75}

func operations(res results) []string {
	seen := map[string]bool{}
	for _, rounds := range res.rounds {
		for _, r := range rounds {
			for op := range r.ops {
				seen[op] = true
			}
		}
	}
	var out, rest []string
	for _, op := range opOrder {
		if seen[op] {
			out = append(out, op)
			delete(seen, op)
		}
	}
	for op := range seen {
		rest = append(rest, op)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// samples merges one operation's samples over every round of rt.
func samples(res results, rt, op string) []time.Duration {
	var d []time.Duration
	for _, r := range res.rounds[rt] {
		d = append(d, r.ops[op]...)
	}
	slices.Sort(d)
	return d
}

// writeOperations prints the critest operations: p50 and p95 over every
// sample of every round, the ratio of the p50s and p95s, and the spread
// of the per-round p50 ratios.
func writeOperations(w io.Writer, res results) {
	both := res.has("containerd")
	fmt.Fprintf(w, "critest -benchmark, %d round(s): p50 and p95 over all samples (ms)\n\n", len(res.rounds["wincri"]))
	if !both {
		fmt.Fprintln(w, "| operation | n | wincri p50 | wincri p95 |")
		fmt.Fprintln(w, "|---|---|---|---|")
	} else {
		fmt.Fprintln(w, "| operation | n | wincri p50 | wincri p95 | containerd p50 | containerd p95 | ratio p50 | ratio p95 | per-round p50 ratios | target | met |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	}
	for _, op := range operations(res) {
		ws := samples(res, "wincri", op)
		w50, w95 := benchstat.Percentile(ws, 50), benchstat.Percentile(ws, 95)
		if !both {
			fmt.Fprintf(w, "| %s | %d | %s | %s |\n", op, len(ws), ms(w50), ms(w95))
			continue
		}
		cs := samples(res, "containerd", op)
		c50, c95 := benchstat.Percentile(cs, 50), benchstat.Percentile(cs, 95)
		target := 1.0
		if t, ok := opTargets[op]; ok {
			target = t
		}
		r50 := ratio(float64(w50), float64(c50))
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | <= %.2f | %s |\n", op, len(ws),
			ms(w50), ms(w95), ms(c50), ms(c95), fmtRatio(r50), fmtRatio(ratio(float64(w95), float64(c95))),
			roundSpread(res, op), target, met(r50 <= target))
	}
}

// roundSpread is the lowest and highest ratio of one round's p50s.
func roundSpread(res results, op string) string {
	var rs []float64
	wr, cr := res.rounds["wincri"], res.rounds["containerd"]
	for i := range min(len(wr), len(cr)) {
		w, c := wr[i].ops[op], cr[i].ops[op]
		if len(w) == 0 || len(c) == 0 {
			continue
		}
		rs = append(rs, ratio(float64(benchstat.Percentile(w, 50)), float64(benchstat.Percentile(c, 50))))
	}
	if len(rs) == 0 {
		return "-"
	}
	slices.Sort(rs)
	return fmt.Sprintf("%.2f-%.2f", rs[0], rs[len(rs)-1])
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.2f", r)
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// median of one figure over a runtime's rounds; NaN when no round has it.
func median(res results, rt string, get func(round) (float64, bool)) float64 {
	var vs []float64
	for _, r := range res.rounds[rt] {
		if v, ok := get(r); ok {
			vs = append(vs, v)
		}
	}
	m, err := benchstat.Median(vs)
	if err != nil {
		return math.NaN()
	}
	return m
}

func pullMs(name string) func(round) (float64, bool) {
	return func(r round) (float64, bool) { f, ok := r.pull[name]; return f.Ms, ok }
}

// pullRatio is a case's time or bytes over the single pull's, per round.
func pullRatio(name string, bytes bool) func(round) (float64, bool) {
	return func(r round) (float64, bool) {
		f, ok := r.pull[name]
		s, ok2 := r.pull["single"]
		if !ok || !ok2 {
			return 0, false
		}
		if bytes {
			return ratio(float64(f.Bytes), float64(s.Bytes)), true
		}
		return ratio(f.Ms, s.Ms), true
	}
}

// throughput is the single big pull's MiB of blobs per second.
func throughput(r round) (float64, bool) {
	f, ok := r.pull["single"]
	if !ok || f.Ms == 0 {
		return 0, false
	}
	return float64(f.Bytes) / (1 << 20) / (f.Ms / 1000), true
}

// overFloor is the big pull's time over the physical floor's (the same
// blobs fetched, decompressed and written durably, nothing else), the
// median of the floor's rounds.
func overFloor(res results) func(round) (float64, bool) {
	var vs []float64
	for _, f := range res.floor {
		vs = append(vs, f.Ms)
	}
	floor, err := benchstat.Median(vs)
	return func(r round) (float64, bool) {
		f, ok := r.pull["single"]
		return ratio(f.Ms, floor), ok && err == nil
	}
}

func densityFigure(key string) func(round) (float64, bool) {
	return func(r round) (float64, bool) { v, ok := r.density[key]; return v, ok }
}

// caseRow is one line of the cases table: a figure per runtime, and how
// the ratio wincri / containerd (or, for within, wincri's own figure)
// meets its target.
type caseRow struct {
	label string
	get   func(round) (float64, bool)
	// target checks the ratio; nil for a figure without one.
	target     func(float64) bool
	targetText string
	// within compares wincri's figure itself, not the ratio.
	within bool
}

func writeCases(w io.Writer, res results) {
	both := res.has("containerd")
	pods := median(res, "wincri", densityFigure("pods"))
	at := func(v float64) func(float64) bool { return func(r float64) bool { return r <= v } }
	// The big pull's target: 1.5 times containerd's throughput or, when
	// containerd is already within 2x of the physical floor, within 1.3x
	// of the floor.
	throughputRow := caseRow{label: "big image pull throughput (MiB/s)", get: throughput, target: func(r float64) bool { return r >= 1.5 }, targetText: ">= 1.50"}
	floorRow := caseRow{label: "big image pull / physical floor", get: overFloor(res), within: true, target: at(1.3), targetText: "<= 1.30"}
	if c := median(res, "containerd", overFloor(res)); !math.IsNaN(c) {
		if c <= 2 {
			throughputRow.target, throughputRow.targetText = nil, fmt.Sprintf("n/a: containerd is %.2fx the floor", c)
		} else {
			floorRow.target, floorRow.targetText = nil, fmt.Sprintf("n/a: containerd is %.2fx the floor", c)
		}
	}
	rows := []caseRow{
		{label: "big image pull, cold (ms)", get: pullMs("single")},
		throughputRow,
		floorRow,
		{label: "4 pulls of one image at once / one pull: time", get: pullRatio("same4", false), within: true, target: at(1.2), targetText: "<= 1.20 (costs one)"},
		{label: "4 pulls of one image at once / one pull: bytes fetched", get: pullRatio("same4", true), within: true, target: at(1.01), targetText: "<= 1.01 (costs one)"},
		{label: "4 images at once / one after another: time", get: func(r round) (float64, bool) {
			c, ok := r.pull["concurrent"]
			s, ok2 := r.pull["sequential"]
			return ratio(c.Ms, s.Ms), ok && ok2
		}, within: true, target: at(1.0), targetText: "<= 1.00"},
		{label: "import of the big image's archive, cold (ms)", get: pullMs("import")},
		{label: "daemon RSS idle (MiB)", get: densityFigure("rss_before_mib"), target: at(0.5), targetText: "<= 0.50"},
		{label: fmt.Sprintf("daemon RSS with %.0f pods (MiB)", pods), get: densityFigure("rss_full_mib"), target: at(0.5), targetText: "<= 0.50"},
		{label: fmt.Sprintf("ListPodSandboxStats with %.0f pods, p50 (ms)", pods), get: densityFigure("stats_p50_ms"), target: at(0.5), targetText: "<= 0.50"},
		{label: fmt.Sprintf("%.0f pods at once, all Ready (ms)", pods), get: densityFigure("total_ms")},
		{label: fmt.Sprintf("%.0f pods deleted (ms)", pods), get: densityFigure("delete_ms")},
	}
	fmt.Fprintf(w, "Cases, median of %d round(s)\n\n", len(res.rounds["wincri"]))
	fmt.Fprintln(w, "| case | wincri | containerd | ratio | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, row := range rows {
		wv := median(res, "wincri", row.get)
		cv := math.NaN()
		if both {
			cv = median(res, "containerd", row.get)
		}
		r := ratio(wv, cv)
		checked := r
		if row.within {
			checked, r = wv, math.NaN()
		}
		verdict, target := "", row.targetText
		if row.target != nil && !math.IsNaN(checked) {
			verdict = met(row.target(checked))
		}
		if row.get == nil || math.IsNaN(wv) {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", row.label, num(wv), num(cv), fmtRatio(r), target, verdict)
	}
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
