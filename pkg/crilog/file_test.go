package crilog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readLog(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	records, err := ReadRecords(f)
	require.NoError(t, err)
	return records
}

func TestFileCreatesInsideDirectory(t *testing.T) {
	dir := t.TempDir()
	lf, err := OpenFile(context.Background(), dir, "app/0.log")
	require.NoError(t, err)
	t.Cleanup(func() { _ = lf.Close() })
	assert.Equal(t, filepath.Join(dir, "app", "0.log"), lf.Path())

	fi, err := os.Stat(lf.Path())
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(logFileMode), fi.Mode().Perm())
	}
}

func TestFileAppends(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0.log"), []byte("2026-11-29T03:04:05Z stdout F before\n"), 0o640))
	lf, err := OpenFile(context.Background(), dir, "0.log")
	require.NoError(t, err)
	require.NoError(t, lf.WriteRecord(Stdout, false, []byte("after")))
	require.NoError(t, lf.Close())

	msgs := Assemble(readLog(t, lf.Path()))
	require.Len(t, msgs, 2)
	assert.Equal(t, "before", msgs[0].Text)
	assert.Equal(t, "after", msgs[1].Text)
}

func TestOpenFileRejectsEscape(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link")))
	for _, name := range []string{"../x.log", "/etc/x.log", "", "link/x.log"} {
		t.Run(name, func(t *testing.T) {
			_, err := OpenFile(context.Background(), dir, name)
			require.Error(t, err)
		})
	}
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was created outside the log directory")
}

func TestFileTimestamps(t *testing.T) {
	lf, err := OpenFile(context.Background(), t.TempDir(), "0.log")
	require.NoError(t, err)
	fixed := time.Date(2026, 11, 29, 3, 4, 5, 600, time.UTC)
	lf.now = func() time.Time { return fixed }
	require.NoError(t, lf.WriteRecord(Stderr, true, []byte("x")))
	require.NoError(t, lf.Close())

	raw, err := os.ReadFile(lf.Path())
	require.NoError(t, err)
	assert.Equal(t, "2026-11-29T03:04:05.0000006Z stderr P x\n", string(raw))
}

// TestFileInterleaving writes both streams from two goroutines, as the
// logger does, and checks that every line of the file is one whole
// record, that each stream keeps its order, and that time never goes
// backwards in the file.
func TestFileInterleaving(t *testing.T) {
	lf, err := OpenFile(context.Background(), t.TempDir(), "0.log")
	require.NoError(t, err)
	const n = 2000
	var wg sync.WaitGroup
	for _, s := range []Stream{Stdout, Stderr} {
		wg.Go(func() {
			for i := range n {
				content := bytes.Repeat([]byte(string(s)[:3]), 1+i%300)
				content = append(content, strconv.Itoa(i)...)
				assert.NoError(t, lf.WriteRecord(s, false, content))
			}
		})
	}
	wg.Wait()
	require.NoError(t, lf.Close())

	records := readLog(t, lf.Path())
	require.Len(t, records, 2*n)
	next := map[Stream]int{}
	for i, r := range records {
		want := string(bytes.Repeat([]byte(string(r.Stream)[:3]), 1+next[r.Stream]%300)) + strconv.Itoa(next[r.Stream])
		require.Equal(t, want, string(r.Content), "record %d", i)
		next[r.Stream]++
		if i > 0 {
			require.False(t, r.Time.Before(records[i-1].Time), "record %d goes back in time", i)
		}
	}
}

// TestFileReopen rotates the file the way kubelet does, rename then
// reopen, while both streams keep writing, and checks that the two files
// together hold every record exactly once.
func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	lf, err := OpenFile(context.Background(), dir, "0.log")
	require.NoError(t, err)

	const n = 3000
	var wg sync.WaitGroup
	for _, s := range []Stream{Stdout, Stderr} {
		wg.Go(func() {
			for i := range n {
				assert.NoError(t, lf.WriteRecord(s, false, []byte(fmt.Sprintf("%s-%d", s, i))))
			}
		})
	}
	var rotated []string
	for i := range 5 {
		name := filepath.Join(dir, fmt.Sprintf("0.log.%d", i))
		require.NoError(t, os.Rename(lf.Path(), name))
		require.NoError(t, lf.Reopen())
		rotated = append(rotated, name)
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	require.NoError(t, lf.Close())

	seen := map[string]int{}
	for _, name := range append(rotated, lf.Path()) {
		for _, r := range readLog(t, name) {
			seen[string(r.Content)]++
		}
	}
	require.Len(t, seen, 2*n)
	for content, count := range seen {
		require.Equal(t, 1, count, "record %q", content)
	}
}

func TestFileReopenFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	lf, err := OpenFile(context.Background(), dir, "0.log")
	require.NoError(t, err)
	require.NoError(t, os.Rename(lf.Path(), filepath.Join(dir, "0.log.1")))
	// A directory where the new file should go fails the reopen, for root
	// too (which directory permissions would not stop).
	require.NoError(t, os.Mkdir(filepath.Join(dir, "0.log"), 0o700))
	require.Error(t, lf.Reopen())
	require.NoError(t, lf.WriteRecord(Stdout, false, []byte("kept")))
	require.NoError(t, lf.Close())
	assert.Len(t, readLog(t, filepath.Join(dir, "0.log.1")), 1)
}

func TestFileClosed(t *testing.T) {
	lf, err := OpenFile(context.Background(), t.TempDir(), "0.log")
	require.NoError(t, err)
	require.NoError(t, lf.Close())
	require.NoError(t, lf.Close(), "Close is idempotent")
	require.ErrorIs(t, lf.WriteRecord(Stdout, false, nil), errdefs.ErrFailedPrecondition)
	require.ErrorIs(t, lf.Reopen(), errdefs.ErrFailedPrecondition)
}

func BenchmarkFileWriteRecord(b *testing.B) {
	lf, err := OpenFile(context.Background(), b.TempDir(), "0.log")
	require.NoError(b, err)
	defer lf.Close()
	content := bytes.Repeat([]byte("x"), 100)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		_ = lf.WriteRecord(Stdout, false, content)
	}
}
