package sandbox

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

const sigterm = 15

// signals are the Linux signal numbers by name; runhcs maps the same
// numbers to Windows stop events.
var signals = map[string]uint32{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
	"FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
	"TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21,
	"TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28,
	"IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}

const sigrtmin, sigrtmax = 34, 64

// ParseSignal reads an image's StopSignal: a name with or without "SIG",
// RTMIN+n / RTMAX-n, or a number; "" is SIGTERM.
func ParseSignal(s string) (uint32, error) {
	if s == "" {
		return sigterm, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if n == 0 || n > sigrtmax {
			return 0, fmt.Errorf("stop signal %q is out of range: %w", s, errdefs.ErrInvalidArgument)
		}
		return uint32(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if n, ok := signals[name]; ok {
		return n, nil
	}
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN+", sigrtmin, 1}, {"RTMAX-", sigrtmax, -1}, {"RTMIN", sigrtmin, 0}, {"RTMAX", sigrtmax, 0}} {
		rest, ok := strings.CutPrefix(name, rt.prefix)
		if !ok {
			continue
		}
		off := 0
		if rt.sign != 0 {
			v, err := strconv.Atoi(rest)
			if err != nil {
				break
			}
			off = v * rt.sign
		} else if rest != "" {
			continue
		}
		if n := rt.base + off; n >= sigrtmin && n <= sigrtmax {
			return uint32(n), nil
		}
	}
	return 0, fmt.Errorf("unknown stop signal %q: %w", s, errdefs.ErrInvalidArgument)
}
