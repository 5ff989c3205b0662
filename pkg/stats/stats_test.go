package stats

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRates(t *testing.T) {
	t0 := time.Unix(100, 0)
	steps := []struct {
		at    time.Time
		usage uint64
		want  uint64
	}{
		{t0, 1e9, 0},                                // first sample: no rate yet
		{t0.Add(time.Second), 1.5e9, 5e8},           // half a core
		{t0.Add(time.Second), 1.6e9, 5e8},           // same instant: previous rate
		{t0.Add(3 * time.Second), 5.5e9, 2e9},       // two cores
		{t0.Add(4 * time.Second), 1e6, 0},           // counter reset: start over
		{t0.Add(5 * time.Second), 1e6 + 25e7, 25e7}, // quarter core
	}
	r := NewRates()
	for i, s := range steps {
		sample := Sample{At: s.at, CPU: &CPU{UsageCoreNanoSeconds: s.usage}}
		r.Apply("c", &sample)
		assert.Equal(t, s.want, sample.CPU.UsageNanoCores, "step %d", i)
	}
	r.Apply("c", &Sample{}) // no CPU: nothing to do, no panic
	r.Apply("c", nil)
	r.Forget(func(string) bool { return false })
	first := Sample{At: t0.Add(time.Hour), CPU: &CPU{UsageCoreNanoSeconds: 9e12}}
	r.Apply("c", &first)
	assert.Zero(t, first.CPU.UsageNanoCores, "forgotten key starts over")
}

func TestSum(t *testing.T) {
	t1, t2 := time.Unix(1, 0), time.Unix(2, 0)
	tests := []struct {
		name    string
		samples []Sample
		want    Sample
	}{
		{"none", nil, Sample{}},
		{
			name:    "one keeps its limit",
			samples: []Sample{{At: t1, Memory: &Memory{WorkingSet: 1, Limit: 10, Available: 9}}},
			want:    Sample{At: t1, Memory: &Memory{WorkingSet: 1, Limit: 10, Available: 9}},
		},
		{
			name: "several add up, limits do not",
			samples: []Sample{
				{At: t2, CPU: &CPU{UsageCoreNanoSeconds: 1, UsageNanoCores: 2}, Memory: &Memory{WorkingSet: 1, Usage: 2, Limit: 10, Available: 9}, Process: &Process{Count: 1}},
				{At: t1, CPU: &CPU{UsageCoreNanoSeconds: 3, UsageNanoCores: 4}, Memory: &Memory{WorkingSet: 5, Usage: 6}},
				{At: t1},
			},
			want: Sample{At: t2, CPU: &CPU{UsageCoreNanoSeconds: 4, UsageNanoCores: 6}, Memory: &Memory{WorkingSet: 6, Usage: 8}, Process: &Process{Count: 1}},
		},
		{
			name:    "one keeps its pids limit",
			samples: []Sample{{At: t1, Cgroup: true, Process: &Process{Count: 2, ThreadsMax: 50}}, {At: t1}},
			want:    Sample{At: t1, Cgroup: true, Process: &Process{Count: 2, ThreadsMax: 50}},
		},
		{
			name: "cgroup figures add up, devices merge",
			samples: []Sample{
				{
					At: t1, Cgroup: true,
					CPU:     &CPU{CFS: &CFS{Periods: 1, ThrottledPeriods: 2, ThrottledTime: 3}},
					Memory:  &Memory{MaxUsage: 1, Swap: 2, Kernel: 3, OOMEvents: 4},
					Process: &Process{Count: 1, ThreadsMax: 10, Tasks: &Tasks{Threads: 1, FileDescriptors: 2, Sockets: 3}},
					IO:      []DeviceIO{{Major: 8, Device: "sda", ReadBytes: 1, Writes: 1}},
				},
				{
					At: t2, Cgroup: true,
					CPU:     &CPU{CFS: &CFS{Periods: 10, ThrottledPeriods: 20, ThrottledTime: 30}},
					Memory:  &Memory{MaxUsage: 10, Swap: 20, Kernel: 30, OOMEvents: 40},
					Process: &Process{Count: 2, ThreadsMax: 20, Tasks: &Tasks{Threads: 10, FileDescriptors: 20, Sockets: 30}},
					IO:      []DeviceIO{{Major: 8, Minor: 1, Device: "sda1", WriteBytes: 5}, {Major: 8, Device: "sda", ReadBytes: 2, Reads: 3}},
				},
			},
			want: Sample{
				At: t2, Cgroup: true,
				CPU:     &CPU{CFS: &CFS{Periods: 11, ThrottledPeriods: 22, ThrottledTime: 33}},
				Memory:  &Memory{MaxUsage: 11, Swap: 22, Kernel: 33, OOMEvents: 44},
				Process: &Process{Count: 3, Tasks: &Tasks{Threads: 11, FileDescriptors: 22, Sockets: 33}},
				IO:      []DeviceIO{{Major: 8, Device: "sda", ReadBytes: 3, Reads: 3, Writes: 1}, {Major: 8, Minor: 1, Device: "sda1", WriteBytes: 5}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, Sum(tt.samples...)) })
	}
}

const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    5000      40    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
`

func TestParseNetDev(t *testing.T) {
	got, err := ParseNetDev(strings.NewReader(netDev))
	require.NoError(t, err)
	assert.Equal(t, []Interface{{Name: "eth0", RxBytes: 5000, RxPackets: 40, RxErrors: 1, RxDropped: 2, TxBytes: 3000, TxPackets: 30, TxErrors: 3, TxDropped: 4}}, got)

	for name, in := range map[string]string{
		"no colon":     "h\nh\neth0 1 2 3\n",
		"few counters": "h\nh\neth0: 1 2 3\n",
		"not a number": "h\nh\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseNetDev(strings.NewReader(in))
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "f"), make([]byte, 1000), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "g"), make([]byte, 24), 0o644))

	d := NewDiskUsage(time.Hour)
	u, ok := d.Get(dir)
	require.True(t, ok, "the first request measures a new directory")
	assert.Equal(t, uint64(4), u.InodesUsed, "the directory, a, a/f and g")
	assert.GreaterOrEqual(t, u.UsedBytes, uint64(1024))

	// Later requests answer from the cache; the background re-measures.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "h"), nil, 0o644))
	u, ok = d.Get(dir)
	require.True(t, ok)
	assert.Equal(t, uint64(4), u.InodesUsed, "cached, not walked again")

	missing := filepath.Join(dir, "missing")
	_, ok = d.Get(missing)
	assert.False(t, ok)

	require.NoError(t, os.Mkdir(missing, 0o755))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool { _, ok = d.Get(missing); return ok }, 5*time.Second, 10*time.Millisecond,
		"a directory the first request could not measure is measured in the background")
}

// A first measurement that runs out of its budget leaves the directory
// to the background instead of holding the request.
func TestDiskUsageFirstMeasureBudget(t *testing.T) {
	d := NewDiskUsage(time.Hour)
	var deadlines []time.Time
	d.walk = func(_ string, deadline time.Time) (Filesystem, error) {
		deadlines = append(deadlines, deadline)
		return Filesystem{}, errBudget
	}
	_, ok := d.Get("/layer")
	assert.False(t, ok)
	_, ok = d.Get("/layer")
	assert.False(t, ok)
	require.Len(t, deadlines, 1, "only the first request walks")
	assert.False(t, deadlines[0].IsZero(), "the request's walk is bounded")
	select {
	case <-d.kick:
	default:
		t.Fatal("the background was not woken")
	}
}

func TestMeasureStopsAtItsDeadline(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), nil, 0o644))
	_, err := measure(dir, time.Now().Add(-time.Second))
	assert.ErrorIs(t, err, errBudget)
	u, err := measure(dir, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), u.InodesUsed)
}
