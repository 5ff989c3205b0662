package winversion

import (
	"fmt"
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

// TestProcessCompatible pins hcsshim v0.15.0's rule
// (osversion/platform_compat_windows.go, CheckHostAndContainerCompat):
// below Server 2022 the builds are equal; from it on, a host runs images
// from the newest LTSC build strictly below its own (Server 2022 when
// none is) up to its own. The rows marked "hcsshim" are its own
// Test_PlatformCompat expectations (platform_compat_windows_test.go); the
// rest fill the host x image matrix 17763, 20348, 22621, 25398, 26100 and
// a future build.
func TestProcessCompatible(t *testing.T) {
	const future = 30000
	builds := []uint32{BuildLTSC2019, BuildLTSC2022, 22621, 25398, BuildLTSC2025, future}
	// runs[host] lists the image builds the host runs.
	runs := map[uint32][]uint32{
		BuildLTSC2019: {BuildLTSC2019},                      // hcsshim: 2019 runs 2019, not 2022
		BuildLTSC2022: {BuildLTSC2022},                      // hcsshim: 2022 runs 2022, not 2019, 2025 or 22621
		22621:         {BuildLTSC2022, 22621},               // hcsshim: Windows 11 22H2 runs 2022, not 2019
		25398:         {BuildLTSC2022, 22621, 25398},        // Server 23H2
		BuildLTSC2025: {BuildLTSC2022, 22621, 25398, 26100}, // hcsshim: 2025 runs 2022 and 22621
		future:        {BuildLTSC2025, future},              // the LTSC below it is 2025
	}
	for _, host := range builds {
		for _, img := range builds {
			want := false
			for _, b := range runs[host] {
				want = want || b == img
			}
			t.Run(fmt.Sprintf("host_%d_image_%d", host, img), func(t *testing.T) {
				assert.Equal(t, want, ProcessCompatible(v(host), v(img)))
				err := CheckProcessIsolation(v(host), v(img))
				if want {
					assert.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
				assert.Contains(t, err.Error(), v(img).String())
				assert.Contains(t, err.Error(), v(host).String())
			})
		}
	}
	tests := []struct {
		name      string
		host, img Version
		want      bool
	}{
		{"revisions never matter", Version{10, 0, 17763, 100}, Version{10, 0, 17763, 5}, true},
		{"2016 host, 2019 image", v(14393), v(17763), false},
		{"minor differs", Version{10, 1, 20348, 0}, v(20348), false},
		{"major differs", Version{6, 0, 20348, 0}, v(20348), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ProcessCompatible(tt.host, tt.img))
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
