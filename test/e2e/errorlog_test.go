//go:build linux

package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/wincri/wincri/internal/testlog"
)

// errorLine matches a line wincri logged at error level: klog's E lines,
// and error-level lines of the libraries that log through logrus.
var errorLine = regexp.MustCompile(`^E\d{4} \d\d:\d\d:\d\d|level=error`)

// unexpectedErrors returns the error-level lines of log that none of
// expected matches.
func unexpectedErrors(log string, expected []*regexp.Regexp) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if !errorLine.MatchString(line) {
			continue
		}
		if !testlog.MatchesAny(line, expected) {
			out = append(out, line)
		}
	}
	return out
}

// checkErrorLog fails the test for every error wincri logged: an
// error-level line in a passing end-to-end run is a defect. (The package
// tests that provoke errors on purpose declare them with testlog.Expect.)
func (d *daemon) checkErrorLog() {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		return // never started
	}
	for _, line := range unexpectedErrors(string(data), nil) {
		d.t.Errorf("wincri logged an unexpected error: %s", line)
	}
}

func TestUnexpectedErrors(t *testing.T) {
	log := strings.Join([]string{
		`I1205 21:00:00.000001    1 daemon.go:1] "Ready"`,
		`E1205 21:00:00.000002    1 recover.go:9] "Shim is gone" err="dial: no such file"`,
		`E1205 21:00:00.000003    1 interceptors.go:73] "RPC failed" err="boom" code="Internal"`,
		`time="2026-12-05T21:52:33Z" level=error msg="ttrpc: received message on inactive stream"`,
		`time="2026-12-05T21:52:33Z" level=info msg="fine"`,
	}, "\n")
	got := unexpectedErrors(log, []*regexp.Regexp{regexp.MustCompile(`Shim is gone`)})
	if len(got) != 2 || !strings.Contains(got[0], "boom") || !strings.Contains(got[1], "inactive stream") {
		t.Fatalf("unexpected errors = %q", got)
	}
}
