package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"
)

// logFileChild is set when this test binary runs as the child of
// TestLogFileAndPanicLog.
const logFileChild = "WINCRI_LOGFILE_TEST_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(logFileChild); path != "" {
		if _, err := logToFile(path); err != nil {
			os.Exit(3)
		}
		klog.Info("Logged to the file")
		klog.Flush()
		panic("a crash whose stack must reach panic.log")
	}
	os.Exit(m.Run())
}

// With --log-file, the log goes to the file and a crash's stack, which the
// Go runtime writes to standard error, to panic.log beside it: a service
// has no console to show either.
func TestLogFileAndPanicLog(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "logs", "wincri.log")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), logFileChild+"="+logPath)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child crashes")
	assert.NotContains(t, string(out), "a crash whose stack", "the stack went to panic.log, not the console")

	logData, err := os.ReadFile(logPath)
	require.NoError(t, err)
	assert.Contains(t, string(logData), "Logged to the file")
	panicData, err := os.ReadFile(filepath.Join(dir, "logs", "panic.log"))
	require.NoError(t, err)
	assert.Contains(t, string(panicData), "a crash whose stack must reach panic.log")
	assert.Contains(t, string(panicData), "goroutine ")
}
