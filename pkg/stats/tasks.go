package stats

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Bounds of one CountTasks walk: a task with more processes or open
// files than this is reported with what was counted so far, so that a
// stats request stays cheap whatever a container does.
const (
	maxTaskPids = 1024
	maxTaskFDs  = 1 << 16
)

// HostProc is where the host's process table is mounted: "/proc" on
// Linux, "" where there is none (Windows), and CountTasks has nothing
// to read.
func HostProc() string {
	if runtime.GOOS == "linux" {
		return "/proc"
	}
	return ""
}

// CountTasks counts the threads, open file descriptors and sockets of
// pids in the process table at procRoot. Processes that exit meanwhile
// (or cannot be read) are skipped: a container's processes come and go
// all the time, and a count must not fail a stats request. It reads
// at most maxTaskPids processes and maxTaskFDs descriptors.
func CountTasks(procRoot string, pids []uint32) Tasks {
	var t Tasks
	fds := 0
	for i, pid := range pids {
		if i == maxTaskPids {
			break
		}
		dir := filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10))
		if n, ok := readThreads(filepath.Join(dir, "status")); ok {
			t.Threads += n
		}
		fds += countFDs(filepath.Join(dir, "fd"), maxTaskFDs-fds, &t)
	}
	return t
}

// readThreads reads the Threads: line of a /proc/<pid>/status file.
func readThreads(path string) (uint64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "Threads:")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// countFDs adds the descriptors in a /proc/<pid>/fd directory, at most
// budget of them, to t and returns how many it looked at. A socket's
// link reads "socket:[inode]".
func countFDs(dir string, budget int, t *Tasks) int {
	if budget <= 0 {
		return 0
	}
	f, err := os.Open(dir)
	if err != nil {
		return 0
	}
	defer f.Close()
	// An error ends the listing early (io.EOF at its end, or the
	// process exited): what was read still counts.
	names, _ := f.Readdirnames(budget)
	for _, n := range names {
		t.FileDescriptors++
		if link, err := os.Readlink(filepath.Join(dir, n)); err == nil && strings.HasPrefix(link, "socket:") {
			t.Sockets++
		}
	}
	return len(names)
}
