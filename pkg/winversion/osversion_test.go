package winversion

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func v(build uint32) Version { return Version{Major: 10, Minor: 0, Build: build} }

func TestParseOSVersion(t *testing.T) {
	got, err := Parse("10.0.20348.2113")
	require.NoError(t, err)
	assert.Equal(t, Version{10, 0, 20348, 2113}, got)
	got, err = Parse("10.0.17763")
	require.NoError(t, err)
	assert.Equal(t, Version{10, 0, 17763, 0}, got)
	for _, bad := range []string{"", "10", "10.0", "10.0.x", "10.0.1.2.3", "-1.0.1"} {
		_, err := Parse(bad)
		assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, bad)
	}
}

func TestProcessCompatible(t *testing.T) {
	tests := []struct {
		name      string
		host, img Version
		want      bool
	}{
		{"2019 same build", v(17763), v(17763), true},
		{"2019 revisions differ", Version{10, 0, 17763, 100}, Version{10, 0, 17763, 5}, true},
		{"2019 host, 2016 image", v(17763), v(14393), false},
		{"2016 host, 2019 image", v(14393), v(17763), false},
		{"2022 same build", v(20348), v(20348), true},
		{"2022 host, 2019 image", v(20348), v(17763), false},
		{"win11 host, 2022 image", v(22621), v(20348), true},
		{"win11 host, newer image", v(22621), v(22631), false},
		{"23H2 host, 2022 image", v(25398), v(20348), true},
		{"2025 host, 2025 image", v(26100), v(26100), true},
		{"2025 host, 2022 image", v(26100), v(20348), false},
		{"2022 host, 2025 image", v(20348), v(26100), false},
		{"minor differs", Version{10, 1, 20348, 0}, v(20348), false},
		{"major differs", Version{6, 0, 20348, 0}, v(20348), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ProcessCompatible(tt.host, tt.img))
			err := CheckProcessIsolation(tt.host, tt.img)
			if tt.want {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
			assert.Contains(t, err.Error(), tt.img.String())
			assert.Contains(t, err.Error(), tt.host.String())
		})
	}
}

func TestHyperV(t *testing.T) {
	assert.True(t, HyperVCompatible(v(20348), v(17763)))
	assert.True(t, HyperVCompatible(v(26100), v(26100)))
	assert.False(t, HyperVCompatible(v(17763), v(20348)))
	assert.Contains(t, CheckProcessIsolation(v(20348), v(17763)).Error(), "hyperv")
	assert.NotContains(t, CheckProcessIsolation(v(17763), v(20348)).Error(), "hyperv")

	require.NoError(t, CheckHyperVIsolation(v(17763), v(17763)))
	err := CheckHyperVIsolation(v(17763), v(20348))
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "10.0.17763.0")
}
