package isolation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestScratchSize(t *testing.T) {
	withSize := func(n int64) *runtimeapi.ContainerConfig {
		return &runtimeapi.ContainerConfig{Windows: &runtimeapi.WindowsContainerConfig{
			Resources: &runtimeapi.WindowsContainerResources{RootfsSizeInBytes: n}}}
	}
	tests := []struct {
		name string
		c    *runtimeapi.ContainerConfig
		want uint64
	}{
		{name: "no config"},
		{name: "no resources", c: &runtimeapi.ContainerConfig{}},
		{name: "unset", c: withSize(0)},
		{name: "40 GiB", c: withSize(40 << 30), want: 40 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ScratchSize(tt.c))
		})
	}
}

// The requested size grows the scratch disk (ScratchSize); the spec's
// Storage.SandboxSize, which runhcs never reads, stays unset.
func TestWindowsResourcesLeaveStorageToTheScratchDisk(t *testing.T) {
	got, err := WindowsResources(&runtimeapi.WindowsContainerResources{RootfsSizeInBytes: 20 << 30})
	assert.NoError(t, err)
	assert.Nil(t, got)
}
