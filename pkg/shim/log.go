package shim

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"k8s.io/klog/v2"
)

// maxShimLogLine bounds one line of a shim's log; longer lines are split.
const maxShimLogLine = 64 << 10

// shimLogBuffer is the line buffer a shim's log drain starts with; it
// grows to maxShimLogLine only for a longer line. The drain waits on its
// shim for the pod's whole life: a 64 KiB buffer per shim from the start
// was 1.3 MB of wincri's heap with 20 pods.
const shimLogBuffer = 4 << 10

// copyShimLog forwards a shim's own log, line by line, until r fails
// (it is closed when the shim's connection ends).
func copyShimLog(logger klog.Logger, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, shimLogBuffer), maxShimLogLine)
	sc.Split(splitShimLog)
	for sc.Scan() {
		logShimLine(logger, strings.TrimRight(sc.Text(), "\r\n"))
	}
}

// splitShimLog splits a shim's log into lines, and a line longer than
// maxShimLogLine into pieces of that size.
func splitShimLog(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 && i < maxShimLogLine {
		return i + 1, data[:i], nil
	}
	if len(data) >= maxShimLogLine {
		return maxShimLogLine, data[:maxShimLogLine], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
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
