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

// TestServesCRIOnNamedPipe: wincri.exe from the release, with the
// release's config.toml, serves the CRI on a named pipe, and the
// release's crictl.exe talks to it.
func TestServesCRIOnNamedPipe(t *testing.T) {
	d := suite.startDaemon(t, "cri")
	ctx := ctxFor(t, 2*time.Minute)

	out, err := d.crictl(ctx, "version")
	require.NoError(t, err, out)
	assert.Contains(t, out, "RuntimeName:  wincri")
	assert.Contains(t, out, "RuntimeApiVersion:  v1")

	out, err = d.crictl(ctx, "info")
	require.NoError(t, err, out)
	var info struct {
		Status struct {
			Conditions []struct {
				Type    string `json:"type"`
				Status  bool   `json:"status"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"conditions"`
		} `json:"status"`
		Config struct {
			DefaultRuntime string `json:"default_runtime"`
			CNI            struct {
				BinDirs []string `json:"bin_dirs"`
				ConfDir string   `json:"conf_dir"`
			} `json:"cni"`
			Image struct {
				SandboxImage string `json:"sandbox_image"`
			} `json:"image"`
		} `json:"config"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &info), out)
	conds := map[string]bool{}
	for _, c := range info.Status.Conditions {
		conds[c.Type] = c.Status
		if c.Type == "NetworkReady" {
			// No CNI configuration in the prefix: the reason names where
			// wincri looked.
			assert.Contains(t, c.Message, `C:\etc\cni\net.d`)
		}
	}
	assert.True(t, conds["RuntimeReady"], out)
	assert.False(t, conds["NetworkReady"], out)
	assert.Equal(t, "process", info.Config.DefaultRuntime, "the prefix emulates Windows Server")
	assert.Equal(t, []string{`C:\opt\cni\bin`}, info.Config.CNI.BinDirs)
	assert.Equal(t, `C:\etc\cni\net.d`, info.Config.CNI.ConfDir)
	assert.Equal(t, "registry.k8s.io/pause:3.10.2", info.Config.Image.SandboxImage)

	out, err = d.crictl(ctx, "images")
	require.NoError(t, err, out)
	assert.Equal(t, []string{"IMAGE", "TAG", "IMAGE", "ID", "SIZE"}, strings.Fields(out))
}

// TestPipeAdmitsAdministratorsAndSystem reads back the security
// descriptor of wincri's pipe.
func TestPipeAdmitsAdministratorsAndSystem(t *testing.T) {
	d := suite.startDaemon(t, "sddl")
	out, err := suite.run(ctxFor(t, time.Minute), suite.probe, "sddl", d.pipe())
	require.NoError(t, err, out)
	var got struct{ SDDL string }
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &got), out)
	// Protected DACL, generic all for SYSTEM (SY) and Administrators (BA),
	// nothing for anyone else.
	assert.Equal(t, "D:P(A;;GA;;;SY)(A;;GA;;;BA)", got.SDDL)
}
