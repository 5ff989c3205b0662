// Command report summarises a critest run from ginkgo's JSON report for
// hack/critest.sh: it lists the failed specs, counts the required suites
// (those not defined in critest's *_linux.go files) apart from the
// Linux-only ones, and ends with the line
//
//	critest: N passed, N failed, N skipped
//
// It exits 1 when a required spec or a suite-level node failed, or when no
// spec ran at all; 2 when the report cannot be read.
//
// With -benchmark DIR it prints the figures of the results files that
// `critest -benchmark --benchmarking-output-dir DIR` wrote instead.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-benchmark" {
		n, err := writeBenchmarks(os.Stdout, os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(2)
		}
		if n == 0 {
			fmt.Fprintln(os.Stderr, "report: no benchmark results in", os.Args[2])
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: report GINKGO-JSON-REPORT | report -benchmark DIR")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		fmt.Println("critest: 0 passed, 0 failed, 0 skipped")
		os.Exit(2)
	}
	defer f.Close()
	reports, err := parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		fmt.Println("critest: 0 passed, 0 failed, 0 skipped")
		os.Exit(2)
	}
	s := summarize(reports)
	s.write(os.Stdout)
	if !s.ok() {
		os.Exit(1)
	}
}
