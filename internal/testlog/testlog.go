// Package testlog gives tests a logger that fails the test for every
// error-level line the code under test logs and the test did not expect.
//
// An error-level line during a passing test is a defect: either the code
// logs at the wrong level, or something went wrong that the assertions
// missed. A test that provokes an error on purpose declares it with
// Expect.
package testlog

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
)

// Log is one test's logger and the errors it is allowed to log.
type Log struct {
	t        testing.TB
	logger   logr.Logger
	buffer   ktesting.Buffer
	mu       sync.Mutex
	expected []*regexp.Regexp
}

// New returns a Log whose lines go to t.Log at verbosity 4, and which
// checks the error-level lines when the test ends.
func New(t testing.TB) *Log {
	t.Helper()
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(4), ktesting.BufferLogs(true)))
	l := &Log{t: t, logger: logger, buffer: logger.GetSink().(ktesting.Underlier).GetBuffer()}
	t.Cleanup(l.check)
	return l
}

// Logger is the logger to hand to the code under test.
func (l *Log) Logger() logr.Logger { return l.logger }

// Context is t.Context() carrying the logger.
func (l *Log) Context() context.Context {
	return klog.NewContext(l.t.Context(), l.logger)
}

// Logged reports whether the code under test has logged a line whose
// message is msg: a test waits on it for a step that shows nowhere else.
func (l *Log) Logged(msg string) bool {
	for _, e := range l.buffer.Data() {
		if e.Message == msg {
			return true
		}
	}
	return false
}

// Expect declares error lines the test causes on purpose, each a regular
// expression matched against "message: error key=value...".
func (l *Log) Expect(patterns ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range patterns {
		l.expected = append(l.expected, regexp.MustCompile(p))
	}
}

// check fails the test for every unexpected error-level line.
func (l *Log) check() {
	l.mu.Lock()
	expected := l.expected
	l.mu.Unlock()
	for _, line := range Unexpected(l.buffer.Data(), expected) {
		l.t.Errorf("logged an unexpected error: %s", line)
	}
}

// Unexpected returns, as "message: error key=value..." lines, the error
// entries of log that no pattern matches.
func Unexpected(log ktesting.Log, expected []*regexp.Regexp) []string {
	var out []string
	for _, e := range log {
		if e.Type != ktesting.LogError {
			continue
		}
		line := fmt.Sprintf("%s: %v", e.Message, e.Err)
		for i := 0; i+1 < len(e.ParameterKVList); i += 2 {
			line += fmt.Sprintf(" %v=%v", e.ParameterKVList[i], e.ParameterKVList[i+1])
		}
		if !MatchesAny(line, expected) {
			out = append(out, line)
		}
	}
	return out
}

// MatchesAny tells whether any of patterns matches line.
func MatchesAny(line string, patterns []*regexp.Regexp) bool {
	for _, re := range patterns {
		if re.MatchString(line) {
			return true
		}
	}
	return false
}
