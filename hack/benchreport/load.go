package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wincri/wincri/internal/benchstat"
)

// runtimes are the runtimes a report compares, the one measured first.
var runtimes = []string{"wincri", "containerd"}

// round is what one round measured of one runtime.
type round struct {
	ops     map[string][]time.Duration // critest operation -> sorted samples
	pull    map[string]figure          // pullbench cri case -> figure
	density map[string]float64         // hack/density -json figures
}

type figure struct {
	Ms    float64 `json:"ms"`
	Bytes int64   `json:"bytes"`
}

// results are every round of every runtime found, and the floor's rounds.
type results struct {
	rounds map[string][]round // runtime -> rounds in order
	floor  []figure
}

func (r results) has(rt string) bool { return len(r.rounds[rt]) > 0 }

func load(dir string) (results, error) {
	res := results{rounds: map[string][]round{}}
	for _, rt := range runtimes {
		dirs, err := filepath.Glob(filepath.Join(dir, rt, "round-*"))
		if err != nil {
			return res, err
		}
		sortRounds(dirs)
		for _, d := range dirs {
			r, err := loadRound(d)
			if err != nil {
				return res, err
			}
			res.rounds[rt] = append(res.rounds[rt], r)
		}
	}
	if !res.has("wincri") {
		return res, fmt.Errorf("%s holds no round of wincri", dir)
	}
	floors, err := filepath.Glob(filepath.Join(dir, "floor", "round-*.json"))
	if err != nil {
		return res, err
	}
	sortRounds(floors)
	for _, f := range floors {
		var v map[string]figure
		if err := readJSON(f, &v); err != nil {
			return res, err
		}
		res.floor = append(res.floor, v["floor"])
	}
	return res, nil
}

// sortRounds orders round-<n> paths by n, so that round-10 follows round-9.
func sortRounds(paths []string) {
	num := func(p string) int {
		var n int
		_, _ = fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "round-"), ".json"), "%d", &n)
		return n
	}
	sort.Slice(paths, func(i, j int) bool { return num(paths[i]) < num(paths[j]) })
}

func loadRound(dir string) (round, error) {
	var r round
	files, err := benchstat.LoadDir(filepath.Join(dir, "critest"))
	if err != nil {
		return r, err
	}
	r.ops = benchstat.Operations(files)
	if err := readOptionalJSON(filepath.Join(dir, "pull.json"), &r.pull); err != nil {
		return r, err
	}
	var imp map[string]figure
	if err := readOptionalJSON(filepath.Join(dir, "import.json"), &imp); err != nil {
		return r, err
	}
	if f, ok := imp["import"]; ok {
		if r.pull == nil {
			r.pull = map[string]figure{}
		}
		r.pull["import"] = f
	}
	if err := readOptionalJSON(filepath.Join(dir, "density.json"), &r.density); err != nil {
		return r, err
	}
	return r, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readOptionalJSON leaves v alone when path does not exist: a round
// whose case failed still reports the others.
func readOptionalJSON(path string, v any) error {
	err := readJSON(path, v)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
