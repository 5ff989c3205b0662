package shim

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"k8s.io/klog/v2"
)

// maxShimLogLine bounds one line of a shim's log; longer lines are split.
const maxShimLogLine = 64 << 10

// copyShimLog forwards a shim's own log, line by line, until r fails
// (it is closed when the shim's connection ends).
func copyShimLog(logger klog.Logger, r io.Reader) {
	br := bufio.NewReaderSize(r, maxShimLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			logShimLine(logger, strings.TrimRight(string(line), "\r\n"))
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return
		}
	}
}

// logShimLine logs one line of a shim's logrus text output at a
// verbosity matching the level the shim gave it: errors stay visible,
// the shim's chatter needs -v.
func logShimLine(logger klog.Logger, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	switch level := shimLogLevel(line); {
	case level == "error" && duringShutdown(line):
		logger.V(2).Info("Shim log", "line", line)
	case level == "error", level == "fatal", level == "panic":
		logger.Error(nil, "Shim log", "line", line)
	case level == "warning", level == "warn":
		logger.Info("Shim log", "line", line)
	case level == "debug", level == "trace":
		logger.V(5).Info("Shim log", "line", line)
	default:
		logger.V(2).Info("Shim log", "line", line)
	}
}

// duringShutdown tells whether a shim's error line is the shim's own
// loops ending while it shuts down, as wincri asked it to: runc-v2's
// goroutines log the shutdown cause as their error (its OOM watcher,
// "cgroups: epoll wait", in a loop: containerd's pkg/oom/v1/v1.go,
// epoller.Run). Nothing failed.
func duringShutdown(line string) bool {
	return strings.Contains(line, " error=shutdown")
}

// shimLogLevel extracts the value of the logrus "level=" field.
func shimLogLevel(line string) string {
	i := strings.Index(line, "level=")
	if i < 0 {
		return ""
	}
	v := line[i+len("level="):]
	if end := strings.IndexAny(v, " \t"); end >= 0 {
		v = v[:end]
	}
	return strings.ToLower(strings.Trim(v, `"`))
}
