package isolation

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKernelAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"5.12.0", true},
		{"5.11.22-generic", false},
		{"6.1.0-18-amd64", true},
		{"6.18.44-fc-v657", true},
		{"4.19.0", false},
		{"5.12-rc1", true},
		{"garbage", false},
		{"", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, kernelAtLeast(tt.release, 5, 12), tt.release)
	}
}
