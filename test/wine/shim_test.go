//go:build linux

package wine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func requireShim(t *testing.T) string {
	t.Helper()
	if suite.shim == "" {
		t.Fatal("containerd-shim-runhcs-v1.exe not found: set WINCRI_RUNHCS_SHIM to the test copy (../shared/windows)")
	}
	return winPath(suite.shim)
}

// TestRunhcsShimHandshake launches the real containerd-shim-runhcs-v1
// through wincri's shim driver, as wincri launches a pod's shim: the
// start subcommand answers with its named pipe, the driver connects to
// the shim's ttrpc service there, and Shutdown ends the shim.
func TestRunhcsShimHandshake(t *testing.T) {
	shim := requireShim(t)
	ctx := ctxFor(t, 2*time.Minute)
	out, err := suite.run(ctx, suite.probe, "shim", shim, `C:\shimprobe`)
	require.NoError(t, err, out)
	var res struct {
		Address     string `json:"address"`
		Version     int    `json:"version"`
		Protocol    string `json:"protocol"`
		Pid         int    `json:"pid"`
		Reconnected bool   `json:"reconnected"`
		Shutdown    bool   `json:"shutdown"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res), out)
	// hcsshim cmd/containerd-shim-runhcs-v1/start.go: addrFmt, in
	// wincri's namespace, named after the pod.
	assert.Equal(t, `\\.\pipe\ProtectedPrefix\Administrators\containerd-shim-wincri-winprobe-pod-pipe`, res.Address)
	assert.Equal(t, 2, res.Version, "runhcs v0.15.0 serves task API v2")
	assert.Equal(t, "ttrpc", res.Protocol)
	assert.NotZero(t, res.Pid, "the shim's pid, from Connect")
	assert.True(t, res.Shutdown)
	t.Logf("reconnected after Wine's placeholder connection: %v", res.Reconnected)
}

// TestShimVersionCheck: the installer's check of the shim. The test
// copy is a development build of hcsshim v0.15.0 that records no
// release, which the check must say rather than pass.
func TestShimVersionCheck(t *testing.T) {
	shim := requireShim(t)
	out, err := suite.run(ctxFor(t, time.Minute), suite.exe("wincri.exe"), "shim-version", shim)
	require.Error(t, err, out)
	assert.Contains(t, out, "development build of containerd-shim-runhcs-v1 that records no hcsshim release")
	assert.Contains(t, out, "wincri is tested against hcsshim v0.15.0")
}
