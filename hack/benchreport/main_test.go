package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// results writes a results directory: per runtime and round, a critest
// file whose CreatePod samples are base*{1,2,3} ms, a pull and a density
// figure.
func writeResults(t *testing.T, rounds int, withContainerd bool) string {
	t.Helper()
	dir := t.TempDir()
	write := func(path, body string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	}
	rts := map[string]int64{"wincri": 1}
	if withContainerd {
		rts["containerd"] = 2
	}
	for rt, base := range rts {
		for r := 1; r <= rounds; r++ {
			d := filepath.Join(dir, rt, fmt.Sprintf("round-%d", r))
			ms := base * 1000000 * int64(r)
			write(filepath.Join(d, "critest", "pod_benchmark_data.json"), fmt.Sprintf(
				`{"operationsNames":["CreatePod","RemovePod"],"datapoints":[{"operationsDurationsNs":[%d,%d]},{"operationsDurationsNs":[%d,%d]},{"operationsDurationsNs":[%d,%d]}]}`,
				ms, ms, 2*ms, 2*ms, 3*ms, 3*ms))
			write(filepath.Join(d, "pull.json"), fmt.Sprintf(
				`{"single":{"ms":%d,"bytes":1048576},"same4":{"ms":%d,"bytes":1048576},"concurrent":{"ms":900,"bytes":4},"sequential":{"ms":1000,"bytes":4}}`,
				1000*base, 1100*base))
			write(filepath.Join(d, "import.json"), fmt.Sprintf(`{"import":{"ms":%d,"bytes":5}}`, 300*base))
			write(filepath.Join(d, "density.json"), fmt.Sprintf(`{"pods":50,"rss_before_mib":%d,"rss_full_mib":%d,"stats_p50_ms":%d,"total_ms":100}`, 10*base, 40*base*base, 3*base))
		}
	}
	write(filepath.Join(dir, "floor", "round-1.json"), `{"floor":{"ms":800,"bytes":1048576}}`)
	return dir
}

func TestReportSideBySide(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(writeResults(t, 3, true), &out))
	got := out.String()
	// Samples 1,2,3 2,4,6 3,6,9 ms (wincri) and twice those (containerd).
	assert.Contains(t, got, "| CreatePod | 9 | 3.0 | 9.0 | 6.0 | 18.0 | 0.50 | 0.50 | 0.50-0.50 | <= 0.75 | yes |")
	assert.Contains(t, got, "| RemovePod | 9 | 3.0 | 9.0 | 6.0 | 18.0 | 0.50 | 0.50 | 0.50-0.50 | <= 1.00 | yes |")
	assert.Contains(t, got, "| big image pull, cold (ms) | 1000 | 2000 | 0.50 |  |  |")
	// Throughput ratio 2: the target is a ratio of at least 1.5.
	assert.Contains(t, got, "| big image pull throughput (MiB/s) | 1.00 | 0.50 | 2.00 | >= 1.50 | yes |")
	// containerd is 2.5x the floor: the throughput target is the one.
	assert.Contains(t, got, "| big image pull / physical floor | 1.25 | 2.50 | - | n/a: containerd is 2.50x the floor |  |")
	assert.Contains(t, got, "| 4 pulls of one image at once / one pull: time | 1.10 | 1.10 | - | <= 1.20 (costs one) | yes |")
	assert.Contains(t, got, "| 4 images at once / one after another: time | 0.90 | 0.90 | - | <= 1.00 | yes |")
	assert.Contains(t, got, "| import of the big image's archive, cold (ms) | 300 | 600 | 0.50 |  |  |")
	assert.Contains(t, got, "| daemon RSS with 50 pods (MiB) | 40.00 | 160 | 0.25 | <= 0.50 | yes |")
	assert.Contains(t, got, "| daemon RSS idle (MiB) | 10.00 | 20.00 | 0.50 | <= 0.50 | yes |")
	assert.Contains(t, got, "| ListPodSandboxStats with 50 pods, p50 (ms) | 3.00 | 6.00 | 0.50 | <= 0.50 | yes |")
}

func TestReportWincriOnly(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(writeResults(t, 1, false), &out))
	got := out.String()
	assert.Contains(t, got, "| CreatePod | 3 | 2.0 | 3.0 |")
	assert.Contains(t, got, "| big image pull, cold (ms) | 1000 | - | - |  |  |")
	assert.NotContains(t, got, "**no**")
}

func TestReportNoWincri(t *testing.T) {
	require.ErrorContains(t, run(t.TempDir(), &bytes.Buffer{}), "no round of wincri")
}

func TestSortRounds(t *testing.T) {
	p := []string{"x/round-10", "x/round-2", "x/round-1.json"}
	sortRounds(p)
	assert.Equal(t, []string{"x/round-1.json", "x/round-2", "x/round-10"}, p)
}

// When containerd is within 2x of the physical floor, the big pull's
// target is the floor's, not the throughput's.
func TestReportFloorTarget(t *testing.T) {
	dir := writeResults(t, 1, true)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "floor", "round-1.json"), []byte(`{"floor":{"ms":1100,"bytes":1048576}}`), 0o600))
	var out bytes.Buffer
	require.NoError(t, run(dir, &out))
	got := out.String()
	assert.Contains(t, got, "| big image pull throughput (MiB/s) | 1.00 | 0.50 | 2.00 | n/a: containerd is 1.82x the floor |  |")
	assert.Contains(t, got, "| big image pull / physical floor | 0.91 | 1.82 | - | <= 1.30 | yes |")
}
