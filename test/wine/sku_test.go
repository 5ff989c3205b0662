//go:build linux

package wine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultHandlerFollowsTheSKU: with the release's config.toml, which
// leaves default_runtime unset, a pod that names no RuntimeClass gets
// process isolation on Windows Server and a utility VM on client Windows.
func TestDefaultHandlerFollowsTheSKU(t *testing.T) {
	tests := []struct {
		sku  sku
		want string
	}{
		{server, "process"},
		{client, "hyperv"},
	}
	for _, tt := range tests {
		t.Run(string(tt.sku), func(t *testing.T) {
			ctx := ctxFor(t, 2*time.Minute)
			require.NoError(t, suite.emulate(ctx, tt.sku, 20348))
			suite.emulateAfter(t)

			out, err := suite.run(ctx, suite.exe("wincri.exe"), "config", "default")
			require.NoError(t, err, out)
			assert.Contains(t, out, `default_runtime = "`+tt.want+`"`)

			d := suite.startDaemon(t, "sku-"+tt.want)
			out, err = d.crictl(ctx, "info")
			require.NoError(t, err, out)
			assert.Contains(t, out, `"default_runtime": "`+tt.want+`"`)
		})
	}
}
