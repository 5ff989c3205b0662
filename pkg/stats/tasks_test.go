package stats

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeProc builds /proc/<pid>/status and /proc/<pid>/fd for processes
// with the given thread counts and descriptor link targets.
func fakeProc(t *testing.T, procs map[uint32]struct {
	threads string
	fds     []string
}) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, fmt.Sprint(pid))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "fd"), 0o755))
		status := "Name:\tsh\nState:\tS (sleeping)\n" + p.threads + "SigQ:\t0/1\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644))
		for i, target := range p.fds {
			require.NoError(t, os.Symlink(target, filepath.Join(dir, "fd", fmt.Sprint(i))))
		}
	}
	return root
}

func TestCountTasks(t *testing.T) {
	root := fakeProc(t, map[uint32]struct {
		threads string
		fds     []string
	}{
		10: {"Threads:\t3\n", []string{"/dev/null", "pipe:[5]", "socket:[77]", "socket:[78]"}},
		11: {"Threads:\t1\n", []string{"/dev/pts/0"}},
		12: {"Threads:\tlots\n", nil}, // unreadable count: skipped
	})
	tests := []struct {
		name string
		pids []uint32
		want Tasks
	}{
		{"two processes", []uint32{10, 11}, Tasks{Threads: 4, FileDescriptors: 5, Sockets: 2}},
		{"one exited meanwhile", []uint32{10, 99}, Tasks{Threads: 3, FileDescriptors: 4, Sockets: 2}},
		{"bad status", []uint32{12}, Tasks{}},
		{"none", nil, Tasks{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, CountTasks(root, tt.pids))
		})
	}
	assert.Equal(t, Tasks{}, CountTasks(filepath.Join(root, "missing"), []uint32{10}))
}

// The walk reads at most maxTaskPids processes.
func TestCountTasksIsBounded(t *testing.T) {
	root := fakeProc(t, map[uint32]struct {
		threads string
		fds     []string
	}{1: {"Threads:\t1\n", nil}})
	pids := make([]uint32, maxTaskPids+10)
	for i := range pids {
		pids[i] = 1
	}
	assert.Equal(t, uint64(maxTaskPids), CountTasks(root, pids).Threads)
}
