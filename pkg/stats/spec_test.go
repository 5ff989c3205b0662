package stats

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want Spec
	}{
		{
			name: "linux resources",
			spec: `{"ociVersion":"1.2.0","linux":{"resources":{"cpu":{"shares":1024,"quota":20000,"period":100000},"memory":{"limit":67108864,"reservation":33554432,"swap":134217728}}}}`,
			want: Spec{Linux: true, CPUShares: 1024, CPUQuota: 20000, CPUPeriod: 100000, MemoryReservation: 32 << 20, MemorySwapLimit: 128 << 20},
		},
		{
			name: "unlimited quota and swap",
			spec: `{"linux":{"resources":{"cpu":{"quota":-1},"memory":{"swap":-1}}}}`,
			want: Spec{Linux: true},
		},
		{name: "linux without resources", spec: `{"linux":{}}`, want: Spec{Linux: true}},
		{name: "no platform section", spec: `{}`, want: Spec{Linux: true}},
		{
			name: "windows",
			spec: `{"windows":{"resources":{"cpu":{"shares":5000,"maximum":2500},"memory":{"limit":1073741824}}}}`,
			want: Spec{CPUShares: 5000},
		},
		{name: "windows without resources", spec: `{"windows":{}}`, want: Spec{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSpec([]byte(tt.spec))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{``, `{`, `{"linux":{"resources":{"cpu":{"shares":-1}}}}`} {
		_, err := ParseSpec([]byte(bad))
		assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, bad)
	}
}
