package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsOf(t *testing.T) {
	rs := resultsSet{OperationsNames: []string{"CreatePod", "StopPod"}}
	for i := int64(1); i <= 20; i++ {
		rs.Datapoints = append(rs.Datapoints, struct {
			OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
		}{OperationsDurationsNs: []int64{i * int64(time.Millisecond), 0}})
	}
	// A short datapoint must not shift the other operations' figures.
	rs.Datapoints = append(rs.Datapoints, struct {
		OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
	}{OperationsDurationsNs: []int64{42 * int64(time.Millisecond)}})

	got := statsOf(rs)
	require.Len(t, got, 2)
	assert.Equal(t, opStats{name: "CreatePod", n: 21, mean: 12 * time.Millisecond, p50: 11 * time.Millisecond, p95: 20 * time.Millisecond, max: 42 * time.Millisecond}, got[0])
	assert.Equal(t, opStats{name: "StopPod", n: 20}, got[1])
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		values []int64
		p      int
		want   int64
	}{
		{values: []int64{5}, p: 50, want: 5},
		{values: []int64{1, 2, 3, 4}, p: 50, want: 2},
		{values: []int64{1, 2, 3, 4}, p: 95, want: 4},
		{values: []int64{1, 2, 3, 4}, p: 0, want: 1},
	} {
		assert.Equal(t, tc.want, percentile(tc.values, tc.p), "p%d of %v", tc.p, tc.values)
	}
}

func TestWriteBenchmarks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pod_benchmark_data.json"),
		[]byte(`{"operationsNames":["CreatePod"],"numParallel":2,"datapoints":[{"operationsDurationsNs":[1500000]}]}`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"unrelated":true}`), 0o600))
	var out bytes.Buffer
	n, err := writeBenchmarks(&out, dir)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Contains(t, out.String(), "pod_benchmark_data (1 samples, 2 in parallel)")
	assert.Contains(t, out.String(), "CreatePod")
	assert.Contains(t, out.String(), "1.5ms")
}
