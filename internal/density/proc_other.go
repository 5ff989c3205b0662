//go:build !linux

package density

import "errors"

var errNoProc = errors.New("process figures are read from /proc, which only Linux has")

// ProcessRSS is the resident set of a process; Linux only.
func ProcessRSS(int) (int64, error) { return 0, errNoProc }

// ProcessFDs counts a process's open files; Linux only.
func ProcessFDs(int) (int, error) { return 0, errNoProc }
