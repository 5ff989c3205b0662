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
	_, ok := d.Get(dir)
	assert.False(t, ok, "never measured on the request path")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var u Filesystem
	require.Eventually(t, func() bool { u, ok = d.Get(dir); return ok }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, uint64(4), u.InodesUsed, "the directory, a, a/f and g")
	assert.GreaterOrEqual(t, u.UsedBytes, uint64(1024))

	_, ok = d.Get(filepath.Join(dir, "missing"))
	assert.False(t, ok)
}

func TestPoints(t *testing.T) {
	at := time.Unix(50, 0)
	id := Identity{ID: "c1", Name: "app", Image: "img"}
	pts := ContainerPoints(id, Sample{At: at, CPU: &CPU{UsageCoreNanoSeconds: 3.5e9}, Memory: &Memory{WorkingSet: 7}, Process: &Process{Count: 2}}, &Filesystem{UsedBytes: 9, InodesUsed: 3})
	byName := map[string]Point{}
	for _, p := range pts {
		byName[p.Name] = p
	}
	assert.Equal(t, uint64(3), byName[MetricCPUUsageSeconds].Value)
	assert.Equal(t, uint64(7), byName[MetricMemoryWorkingSet].Value)
	assert.Equal(t, uint64(2), byName[MetricProcesses].Value)
	assert.Equal(t, uint64(9), byName[MetricFSUsage].Value)
	assert.Equal(t, []string{"c1", "app", "img"}, byName[MetricCPUUsageSeconds].Labels)

	described := map[string]Descriptor{}
	for _, d := range Descriptors() {
		described[d.Name] = d
	}
	net := NetworkPoints(id, at, []Interface{{Name: "eth0", RxBytes: 5}})
	for _, p := range append(pts, net...) {
		d, ok := described[p.Name]
		if assert.True(t, ok, "%s is described", p.Name) {
			assert.Len(t, p.Labels, len(d.LabelKeys), p.Name)
			assert.Equal(t, d.Type, p.Type, p.Name)
		}
	}
	assert.Empty(t, ContainerPoints(id, Sample{}, nil))
}
