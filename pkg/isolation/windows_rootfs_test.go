package isolation

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/shim"
)

func TestWindowsRootfs(t *testing.T) {
	// Manifest order is base first; the mount wants the immediate parent
	// first and the base last.
	layers := LayersFromManifest(`C:\wincri\scratch\c1`, []string{`C:\wincri\layers\base`, `C:\wincri\layers\mid`, `C:\wincri\layers\top`})
	assert.Equal(t, []string{`C:\wincri\layers\top`, `C:\wincri\layers\mid`, `C:\wincri\layers\base`}, layers.Parents)

	mounts, err := WindowsRootfs(layers)
	require.NoError(t, err)
	require.Len(t, mounts, 1, "exactly one rootfs mount")
	assert.Equal(t, shim.Mount{
		Type:   "windows-layer",
		Source: `C:\wincri\scratch\c1`,
		Options: []string{
			"rw",
			`parentLayerPaths=["C:\\wincri\\layers\\top","C:\\wincri\\layers\\mid","C:\\wincri\\layers\\base"]`,
		},
	}, mounts[0])
	assert.Empty(t, mounts[0].Target, "a windows-layer mount has no target")

	// hcsshim decodes the option as a JSON list; it must round-trip.
	var parents []string
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(mounts[0].Options[1], "parentLayerPaths=")), &parents))
	assert.Equal(t, layers.Parents, parents)
}

func TestLayersFromManifestDoesNotAlias(t *testing.T) {
	manifest := []string{`C:\l\base`, `C:\l\top`}
	_ = LayersFromManifest(`C:\s`, manifest)
	assert.Equal(t, []string{`C:\l\base`, `C:\l\top`}, manifest, "the caller's slice is left as it was")
}

func TestWindowsRootfsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		layers  WindowsLayers
		wantErr string
	}{
		{name: "no scratch", layers: WindowsLayers{Parents: []string{`C:\l\base`}}, wantErr: "scratch layer"},
		{name: "relative scratch", layers: WindowsLayers{Scratch: `scratch\c1`, Parents: []string{`C:\l\base`}}, wantErr: "scratch layer"},
		{name: "linux path scratch", layers: WindowsLayers{Scratch: `/var/lib/scratch`, Parents: []string{`C:\l\base`}}, wantErr: "scratch layer"},
		{name: "no parents", layers: WindowsLayers{Scratch: `C:\s`}, wantErr: "at least its base layer"},
		{name: "relative parent", layers: WindowsLayers{Scratch: `C:\s`, Parents: []string{`l\base`}}, wantErr: "parent layer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WindowsRootfs(tt.layers)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestWindowsAbs(t *testing.T) {
	for p, want := range map[string]bool{
		`C:\`:                  true,
		`d:\data`:              true,
		`C:/data`:              true,
		`\\server\share\x`:     true,
		`\\?\Volume{abc}\`:     true,
		`C:`:                   false,
		`C:data`:               false,
		`\data`:                false,
		`data`:                 false,
		`/data`:                false,
		``:                     false,
		`\\\triple`:            false,
		`1:\not-a-drive`:       false,
		`\\.\pipe\docker_pipe`: true,
	} {
		assert.Equal(t, want, windowsAbs(p), p)
	}
}
