package endpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Endpoint
		wantErr string
	}{
		{in: "unix:///run/wincri/wincri.sock", want: Endpoint{Unix, "/run/wincri/wincri.sock"}},
		{in: "unix:///run/../run/x.sock", want: Endpoint{Unix, "/run/x.sock"}},
		{in: "npipe:////./pipe/wincri", want: Endpoint{NPipe, `\\.\pipe\wincri`}},
		{in: "npipe://./pipe/wincri", want: Endpoint{NPipe, `\\.\pipe\wincri`}},
		{in: "/run/wincri.sock", wantErr: "missing scheme"},
		{in: "tcp://127.0.0.1:1234", wantErr: "unsupported scheme"},
		{in: "unix://relative.sock", wantErr: "not a host"},
		{in: "unix://", wantErr: "must be absolute"},
		{in: "npipe:////./notpipe/x", wantErr: "npipe:////./pipe/NAME"},
		{in: "npipe:////./pipe/", wantErr: "npipe:////./pipe/NAME"},
		{in: "unix://%zz", wantErr: "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStringRoundTrips(t *testing.T) {
	for _, s := range []string{"unix:///run/wincri/wincri.sock", "npipe:////./pipe/wincri"} {
		e, err := Parse(s)
		require.NoError(t, err)
		back, err := Parse(e.String())
		require.NoError(t, err)
		assert.Equal(t, e, back)
	}
}
