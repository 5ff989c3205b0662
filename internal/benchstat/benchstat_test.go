package benchstat

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		values []int64
		p      int
		want   int64
	}{
		{values: nil, p: 50, want: 0},
		{values: []int64{5}, p: 50, want: 5},
		{values: []int64{1, 2, 3, 4}, p: 50, want: 2},
		{values: []int64{1, 2, 3, 4}, p: 95, want: 4},
		{values: []int64{1, 2, 3, 4}, p: 0, want: 1},
	} {
		assert.Equal(t, tc.want, Percentile(tc.values, tc.p), "p%d of %v", tc.p, tc.values)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		values []float64
		want   float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		got, err := Median(tc.values)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	_, err := Median(nil)
	require.Error(t, err)
}

func TestLoadDirAndOperations(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	write("pod_benchmark_data.json", `{"operationsNames":["CreatePod","StopPod"],"numParallel":2,"datapoints":[
		{"operationsDurationsNs":[3000000,10]},{"operationsDurationsNs":[1000000]},{"operationsDurationsNs":[2000000,30]}]}`)
	write("container_benchmark_data.json", `{"operationsNames":["StopPod"],"datapoints":[{"operationsDurationsNs":[20]}]}`)
	write("other.json", `{"unrelated":true}`)
	write("broken.json", `{`)
	files, err := LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.Equal(t, "container_benchmark_data", files[0].Name)
	assert.Equal(t, "pod_benchmark_data", files[1].Name)
	assert.Equal(t, 2, files[1].NumParallel)

	ops := Operations(files)
	// The short datapoint counts for CreatePod only; StopPod merges both files.
	assert.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}, ops["CreatePod"])
	assert.Equal(t, []time.Duration{10, 20, 30}, ops["StopPod"])
}
