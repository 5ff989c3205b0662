package network

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	validConflist = `{"cniVersion":"1.0.0","name":"%s","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}]}`
	validConf     = `{"cniVersion":"0.4.0","name":"%s","type":"ptp"}`
)

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

func TestLoadConfDir(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		missingDir  bool
		wantNone    bool
		wantName    string
		wantFile    string
		wantTypes   []string
		wantSkipped []string
		wantErr     string
	}{
		{name: "missing dir", missingDir: true, wantNone: true},
		{name: "empty dir", wantNone: true},
		{name: "only other files", files: map[string]string{"README": "x", "10-net.yaml": "x"}, wantNone: true},
		{
			name:      "conflist",
			files:     map[string]string{"10-net.conflist": sprintf(validConflist, "mynet")},
			wantName:  "mynet",
			wantFile:  "10-net.conflist",
			wantTypes: []string{"bridge", "portmap"},
		},
		{
			name:      "single conf becomes a list",
			files:     map[string]string{"10-net.conf": sprintf(validConf, "p2p")},
			wantName:  "p2p",
			wantFile:  "10-net.conf",
			wantTypes: []string{"ptp"},
		},
		{
			name: "lexical order wins over extension",
			files: map[string]string{
				"20-a.conflist": sprintf(validConflist, "second"),
				"10-b.conf":     sprintf(validConf, "first"),
				"30-c.json":     sprintf(validConf, "third"),
			},
			wantName:  "first",
			wantFile:  "10-b.conf",
			wantTypes: []string{"ptp"},
		},
		{
			name: "invalid files are skipped with a reason",
			files: map[string]string{
				"00-broken.conflist":    "{not json",
				"01-noplugins.conflist": `{"cniVersion":"1.0.0","name":"x","plugins":[]}`,
				"02-notype.conf":        `{"cniVersion":"1.0.0","name":"y"}`,
				"10-good.conflist":      sprintf(validConflist, "good"),
			},
			wantName:    "good",
			wantFile:    "10-good.conflist",
			wantTypes:   []string{"bridge", "portmap"},
			wantSkipped: []string{"00-broken.conflist", "01-noplugins.conflist", "02-notype.conf"},
		},
		{
			name:    "only invalid files is not ready",
			files:   map[string]string{"10-broken.conflist": "{", "20-noname.conflist": `{"plugins":[{"type":"bridge"}]}`},
			wantErr: "no valid CNI network configuration",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.missingDir {
				dir = filepath.Join(dir, "absent")
			}
			writeFiles(t, dir, tt.files)
			n, err := loadConfDir(dir)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				var nr *NotReadyError
				assert.True(t, errors.As(err, &nr))
				assert.True(t, errdefs.IsFailedPrecondition(err))
				for name := range tt.files {
					assert.Contains(t, err.Error(), name, "the message names every skipped file")
				}
				return
			}
			require.NoError(t, err)
			if tt.wantNone {
				assert.Nil(t, n)
				return
			}
			require.NotNil(t, n)
			assert.Equal(t, tt.wantName, n.List.Name)
			assert.Equal(t, filepath.Join(dir, tt.wantFile), n.Source)
			assert.Equal(t, tt.wantTypes, pluginTypes(n.List))
			var skipped []string
			for _, s := range n.Skipped {
				skipped = append(skipped, filepath.Base(s.File))
				assert.NotEmpty(t, s.Reason)
			}
			assert.Equal(t, tt.wantSkipped, skipped)
		})
	}
}
