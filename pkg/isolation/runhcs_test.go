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

// TestRunhcsOptionsFromConfig pins containerd v2.4.2's Windows runtime
// defaults (internal/cri/config/config_windows.go, DefaultRuntimeConfig):
// ScrubLogs on for both handlers, ScaleCpuLimitsToSandbox on for the
// hypervisor one; every configured option reaches the shim; the daemon's
// verbosity becomes the shim's LogLevel, the only level runhcs reads
// (cmd/containerd-shim-runhcs-v1/serve.go).
func TestRunhcsOptionsFromConfig(t *testing.T) {
	off, on := false, true
	tests := []struct {
		name    string
		handler Handler
		want    *runhcsoptions.Options
	}{
		{
			name:    "process defaults",
			handler: Handler{Isolation: config.IsolationProcess},
			want:    &runhcsoptions.Options{SandboxIsolation: runhcsoptions.Options_PROCESS, ScrubLogs: &on, LogLevel: "info"},
		},
		{
			name:    "hyperv defaults",
			handler: Handler{Isolation: config.IsolationHyperV},
			want: &runhcsoptions.Options{SandboxIsolation: runhcsoptions.Options_HYPERVISOR, ScrubLogs: &on,
				ScaleCpuLimitsToSandbox: true, LogLevel: "info"},
		},
		{
			name: "hyperv configured, debug",
			handler: Handler{Isolation: config.IsolationHyperV, ShimLogLevel: "debug", Runhcs: config.Runhcs{
				ScaleCPULimitsToSandbox: &off, ScrubLogs: &off, BootFilesRootPath: `C:\boot`,
				DefaultContainerScratchSizeInGB: 30, DefaultVMScratchSizeInGB: 40, ShareScratch: true,
				NCProxyAddr: "127.0.0.1:6669", IORetryTimeoutInSec: 7, NoInheritHostTimezone: true, GPUVHDPath: `C:\gpu.vhdx`,
				DefaultContainerAnnotations: map[string]string{"io.microsoft.container.storage.qos.iopsmaximum": "500"},
			}},
			want: &runhcsoptions.Options{SandboxIsolation: runhcsoptions.Options_HYPERVISOR, ScrubLogs: &off,
				BootFilesRootPath: `C:\boot`, DefaultContainerScratchSizeInGb: 30, DefaultVmScratchSizeInGb: 40, ShareScratch: true,
				NCProxyAddr: "127.0.0.1:6669", IoRetryTimeoutInSec: 7, NoInheritHostTimezone: true, GPUVHDPath: `C:\gpu.vhdx`,
				DefaultContainerAnnotations: map[string]string{"io.microsoft.container.storage.qos.iopsmaximum": "500"},
				LogLevel:                    "debug"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, RunhcsOptions(tt.handler))
		})
	}
}

func TestShimLogLevel(t *testing.T) {
	for v, want := range map[int]string{0: "info", 2: "info", 3: "info", 4: "debug", 5: "debug", 6: "trace", 9: "trace"} {
		assert.Equal(t, want, ShimLogLevel(v), "verbosity %d", v)
	}
}
