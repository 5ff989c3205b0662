// Command benchreport prints hack/bench.sh's table from its results
// directory:
//
//	RESULTS/<runtime>/round-<n>/critest/*.json   critest -benchmark output
//	RESULTS/<runtime>/round-<n>/pull.json        pullbench cri
//	RESULTS/<runtime>/round-<n>/import.json      the archive import's time
//	RESULTS/<runtime>/round-<n>/density.json     hack/density -json
//	RESULTS/floor/round-<n>.json                 pullbench floor
//
// for the runtimes wincri and, when present, containerd. Only ratios of
// one run compare: the machines are shared and noisy.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchreport RESULTS")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(dir string, w io.Writer) error {
	res, err := load(dir)
	if err != nil {
		return err
	}
	writeOperations(w, res)
	fmt.Fprintln(w)
	writeCases(w, res)
	return nil
}
