//go:build !windows

package shim

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
)

func TestCheckSocketDir(t *testing.T) {
	// The shim's socket is <dir>/<64 hex digits>: 107 bytes at most.
	fits := "/" + strings.Repeat("d", maxSocketPath-1-shimSocketName-1)
	tests := []struct {
		name    string
		dir     string
		wantErr bool
	}{
		{name: "typical", dir: "/var/run/wincri/shim/s"},
		{name: "exactly at the limit", dir: fits},
		{name: "one byte over", dir: fits + "d", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSocketDir(tt.dir)
			if tt.wantErr {
				assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			assert.NoError(t, err)
		})
	}
}

func TestShimAddressKey(t *testing.T) {
	assert.Equal(t, "/run/s/abc", shimAddressKey("unix:///run/s/abc"))
	assert.Equal(t, "/run/s/abc", shimAddressKey("/run/s/abc"))
}
