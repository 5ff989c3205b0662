package shim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The address Launch keeps in the bundle finds a shim whose caller died
// before recording it.
func TestLaunchedAddress(t *testing.T) {
	bundle := t.TempDir()
	_, err := LaunchedAddress(bundle)
	assert.True(t, errdefs.IsNotFound(err), "nothing launched: %v", err)

	want := Address{Address: "unix:///run/wincri/s/abc", Version: 3, Protocol: "ttrpc", ShimID: "pod", Bundle: bundle}
	require.NoError(t, writeLaunchedAddress(bundle, want))
	got, err := LaunchedAddress(bundle)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	for _, bad := range []string{"{", `{"version":3}`} {
		require.NoError(t, os.WriteFile(filepath.Join(bundle, launchedAddressFile), []byte(bad), 0o600))
		_, err = LaunchedAddress(bundle)
		assert.True(t, errdefs.IsDataLoss(err), "%q: %v", bad, err)
	}
}
