package isolation

import (
	"testing"

	runhcsoptions "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/options"
	"github.com/stretchr/testify/assert"

	"github.com/wincri/wincri/pkg/config"
)

func TestRunhcsOptions(t *testing.T) {
	tests := []struct {
		name    string
		handler Handler
		wantIso runhcsoptions.Options_SandboxIsolation
		wantMem int32
		wantCPU int32
	}{
		{
			name:    "process isolation ignores the UVM size",
			handler: Handler{Isolation: config.IsolationProcess, UVMMemoryMB: 2048, UVMProcessors: 2},
			wantIso: runhcsoptions.Options_PROCESS,
		},
		{
			name:    "hyperv with the shim's defaults",
			handler: Handler{Isolation: config.IsolationHyperV},
			wantIso: runhcsoptions.Options_HYPERVISOR,
		},
		{
			name:    "hyperv with a configured size",
			handler: Handler{Isolation: config.IsolationHyperV, UVMMemoryMB: 4096, UVMProcessors: 4},
			wantIso: runhcsoptions.Options_HYPERVISOR, wantMem: 4096, wantCPU: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RunhcsOptions(tt.handler)
			assert.Equal(t, tt.wantIso, got.SandboxIsolation)
			assert.Equal(t, tt.wantMem, got.VmMemorySizeInMb)
			assert.Equal(t, tt.wantCPU, got.VmProcessorCount)
		})
	}
}
