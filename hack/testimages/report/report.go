package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// The subset of ginkgo v2's JSON report (types.Report) the summary reads.
type (
	suiteReport struct {
		SuiteDescription string
		SpecReports      []specReport
	}
	specReport struct {
		ContainerHierarchyTexts     []string
		ContainerHierarchyLocations []codeLocation
		LeafNodeType                string
		LeafNodeLocation            codeLocation
		LeafNodeText                string
		State                       string
		Failure                     *failure `json:",omitempty"`
	}
	codeLocation struct {
		FileName   string
		LineNumber int
	}
	failure struct {
		Message string
	}
)

// counts of one group of specs.
type counts struct{ passed, failed, skipped int }

func (c counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.passed, c.failed, c.skipped)
}

func (c *counts) add(o counts) {
	c.passed += o.passed
	c.failed += o.failed
	c.skipped += o.skipped
}

// summary is the verdict on one critest run.
type summary struct {
	required, linuxOnly counts
	// failedRequired names each failed required spec, and each failed
	// suite-level node (a failed BeforeSuite fails the whole run).
	failedRequired, failedLinuxOnly []string
}

func (s summary) total() counts {
	t := s.required
	t.add(s.linuxOnly)
	return t
}

// ok tells whether the run counts as passed: specs ran and no required one
// failed.
func (s summary) ok() bool {
	return len(s.failedRequired) == 0 && s.total().passed+s.total().failed > 0
}

func parse(r io.Reader) ([]suiteReport, error) {
	var reports []suiteReport
	if err := json.NewDecoder(r).Decode(&reports); err != nil {
		return nil, fmt.Errorf("reading the ginkgo JSON report: %w", err)
	}
	return reports, nil
}

// linuxOnly tells whether a spec belongs to one of critest's Linux-only
// suites: those are defined in pkg/validate's *_linux.go files. The outermost
// container of every spec is framework.KubeDescribe's, so any container or
// the leaf itself being in such a file says it.
func (sr specReport) linuxOnly() bool {
	if isLinuxFile(sr.LeafNodeLocation.FileName) {
		return true
	}
	for _, loc := range sr.ContainerHierarchyLocations {
		if isLinuxFile(loc.FileName) {
			return true
		}
	}
	return false
}

func isLinuxFile(name string) bool { return strings.HasSuffix(filepath.Base(name), "_linux.go") }

func (sr specReport) title() string {
	parts := append(append([]string{}, sr.ContainerHierarchyTexts...), sr.LeafNodeText)
	if sr.LeafNodeType != "It" {
		parts = append(parts, "["+sr.LeafNodeType+"]")
	}
	return fmt.Sprintf("%s (%s:%d)", strings.Join(nonEmpty(parts), " "), filepath.Base(sr.LeafNodeLocation.FileName), sr.LeafNodeLocation.LineNumber)
}

// reason is the telling line of the failure message, kept short: the whole
// story is in the JUnit and JSON reports. Gomega's "Unexpected error:"
// header and its type line are skipped for the error text that follows.
func (sr specReport) reason() string {
	if sr.Failure == nil {
		return ""
	}
	var msg string
	for _, line := range strings.Split(sr.Failure.Message, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "Unexpected error:" || strings.HasPrefix(line, "<") {
			continue
		}
		msg = line
		break
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func nonEmpty(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// failedState lists ginkgo's spec states that are failures.
var failedState = map[string]bool{
	"failed": true, "panicked": true, "interrupted": true, "aborted": true, "timedout": true,
}

// mustPass names specs critest lets a runtime skip that wincri must pass:
// a skip of one of them is a failure.
var mustPass = map[string]bool{
	// Skipped by critest when the runtime accepts a writable image volume.
	"should reject Image Volume with Readonly set to false": true,
}

func summarize(reports []suiteReport) summary {
	var s summary
	for _, r := range reports {
		for _, sr := range r.SpecReports {
			if sr.LeafNodeType != "It" {
				// Suite-level nodes are counted only when they fail: then
				// every spec of the run is suspect.
				if failedState[sr.State] {
					s.failedRequired = append(s.failedRequired, sr.title()+sr.reason())
					s.required.failed++
				}
				continue
			}
			group, failures := &s.required, &s.failedRequired
			if sr.linuxOnly() {
				group, failures = &s.linuxOnly, &s.failedLinuxOnly
			}
			switch {
			case sr.State == "passed":
				group.passed++
			case failedState[sr.State]:
				group.failed++
				*failures = append(*failures, sr.title()+sr.reason())
			case mustPass[sr.LeafNodeText]:
				group.failed++
				*failures = append(*failures, sr.title()+": skipped, but wincri must pass it")
			default: // skipped, pending
				group.skipped++
			}
		}
	}
	return s
}

// write prints the summary; its last line is the one line CI reads.
func (s summary) write(w io.Writer) {
	for _, f := range s.failedLinuxOnly {
		fmt.Fprintf(w, "FAILED (Linux-only, not required): %s\n", f)
	}
	for _, f := range s.failedRequired {
		fmt.Fprintf(w, "FAILED (required): %s\n", f)
	}
	fmt.Fprintf(w, "required suites: %s\n", s.required)
	fmt.Fprintf(w, "Linux-only suites (not required): %s\n", s.linuxOnly)
	fmt.Fprintf(w, "critest: %s\n", s.total())
}
