package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportMediansAndRatio(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, lines ...string) {
		data := ""
		for _, l := range lines {
			data += l + "\n"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".jsonl"), []byte(data), 0o644))
	}
	write("wincri", `{"pods":100,"ready_p50_ms":900,"rss_full_mib":40}`, `{"pods":100,"ready_p50_ms":1000,"rss_full_mib":42}`, `{"pods":100,"ready_p50_ms":3000,"rss_full_mib":41}`)
	write("containerd", `{"pods":100,"ready_p50_ms":2000,"rss_full_mib":84}`)
	var out bytes.Buffer
	require.NoError(t, run([]string{filepath.Join(dir, "wincri"), filepath.Join(dir, "containerd")}, &out))
	assert.Contains(t, out.String(), "| figure | wincri | containerd | ratio |")
	assert.Contains(t, out.String(), "| time to Ready, p50 (ms) | 1000.0 | 2000.0 | 0.50 |")
	assert.Contains(t, out.String(), "| runtime RSS with the pods (MiB) | 41.0 | 84.0 | 0.49 |")
	assert.Contains(t, out.String(), "| all pods Ready (ms) | 0.0 | 0.0 | - |")
}
