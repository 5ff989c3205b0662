package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wincri/wincri/internal/benchstat"
)

func TestStatsOf(t *testing.T) {
	rs := benchstat.ResultsSet{OperationsNames: []string{"CreatePod", "StopPod"}}
	for i := int64(1); i <= 20; i++ {
		rs.Datapoints = append(rs.Datapoints, benchstat.Datapoint{OperationsDurationsNs: []int64{i * int64(time.Millisecond), 0}})
	}
	// A short datapoint must not shift the other operations' figures.
	rs.Datapoints = append(rs.Datapoints, benchstat.Datapoint{OperationsDurationsNs: []int64{42 * int64(time.Millisecond)}})

	got := statsOf(rs)
	require.Len(t, got, 2)
	assert.Equal(t, opStats{name: "CreatePod", n: 21, mean: 12 * time.Millisecond, p50: 11 * time.Millisecond, p95: 20 * time.Millisecond, max: 42 * time.Millisecond}, got[0])
	assert.Equal(t, opStats{name: "StopPod", n: 20}, got[1])
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
