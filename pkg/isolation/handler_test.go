package isolation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	runhcsoptions "github.com/Microsoft/hcsshim/cmd/containerd-shim-runhcs-v1/options"
	runcoptions "github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/config"
)

func windowsTestConfig() *config.Config {
	return &config.Config{
		DefaultRuntime: "process",
		Runtimes: map[string]config.Runtime{
			"process": {Shim: "containerd-shim-runhcs-v1.exe", Isolation: config.IsolationProcess},
			"hyperv":  {Shim: "containerd-shim-runhcs-v1.exe", Isolation: config.IsolationHyperV, UVMMemoryMB: 2048, UVMProcessors: 2},
		},
	}
}

var (
	windowsHyperVHost = Host{OS: OSWindows, HyperV: true}
	windowsServerHost = Host{OS: OSWindows, HyperVMissing: "the Hyper-V role is not installed"}
	linuxTestHost     = Host{OS: OSLinux}
)

func TestResolveWindows(t *testing.T) {
	tests := []struct {
		name        string
		handler     string
		wantName    string
		wantIso     runhcsoptions.Options_SandboxIsolation
		wantMemMB   int32
		wantCPUs    int32
		wantHyperV  bool
		wantIsolate config.Isolation
	}{
		{name: "empty handler is the default", handler: "", wantName: "process", wantIso: runhcsoptions.Options_PROCESS, wantIsolate: config.IsolationProcess},
		{name: "process", handler: "process", wantName: "process", wantIso: runhcsoptions.Options_PROCESS, wantIsolate: config.IsolationProcess},
		{name: "hyperv", handler: "hyperv", wantName: "hyperv", wantIso: runhcsoptions.Options_HYPERVISOR, wantMemMB: 2048, wantCPUs: 2, wantHyperV: true, wantIsolate: config.IsolationHyperV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ResolveOn(windowsTestConfig(), tt.handler, windowsHyperVHost)
			require.NoError(t, err)
			assert.Equal(t, tt.wantName, h.Name)
			assert.Equal(t, tt.wantIsolate, h.Isolation)
			assert.Equal(t, tt.wantHyperV, h.HyperV())
			assert.Equal(t, "containerd-shim-runhcs-v1.exe", h.Shim)
			assert.Equal(t, OSWindows, h.OS)
			require.NotNil(t, h.Options)
			assert.Equal(t, "containerd.runhcs.v1.Options", h.Options.GetTypeUrl())
			var opts runhcsoptions.Options
			require.NoError(t, typeurl.UnmarshalTo(h.Options, &opts))
			assert.Equal(t, tt.wantIso, opts.SandboxIsolation)
			assert.Equal(t, tt.wantMemMB, opts.VmMemorySizeInMb)
			assert.Equal(t, tt.wantCPUs, opts.VmProcessorCount)
		})
	}
}

func TestResolveLinuxUsesRuncOptions(t *testing.T) {
	cfg := &config.Config{
		DefaultRuntime: "process",
		Runtimes:       map[string]config.Runtime{"process": {Shim: "containerd-shim-runc-v2", Isolation: config.IsolationProcess}},
	}
	// The cgroup driver follows the host, as kubelet's does: runc manages
	// cgroups through systemd when systemd is the init (containerd's
	// SystemdCgroup runc option).
	for _, systemd := range []bool{false, true} {
		t.Run(fmt.Sprintf("systemd=%v", systemd), func(t *testing.T) {
			host := linuxTestHost
			host.SystemdCgroup = systemd
			h, err := ResolveOn(cfg, "", host)
			require.NoError(t, err)
			assert.Equal(t, OSLinux, h.OS)
			assert.Equal(t, "containerd-shim-runc-v2", h.Shim)
			require.NotNil(t, h.Options)
			assert.Equal(t, "containerd.runc.v1.Options", h.Options.GetTypeUrl())
			var opts runcoptions.Options
			require.NoError(t, typeurl.UnmarshalTo(h.Options, &opts))
			assert.Equal(t, systemd, opts.SystemdCgroup)
		})
	}
}

func TestSystemdRunning(t *testing.T) {
	dir := t.TempDir()
	assert.False(t, systemdRunning(filepath.Join(dir, "system")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "system"), 0o755))
	assert.True(t, systemdRunning(filepath.Join(dir, "system")))
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      *config.Config
		handler  string
		host     Host
		sentinel error
		contains []string
	}{
		{
			name: "unknown handler lists the configured ones", cfg: windowsTestConfig(), handler: "kata", host: windowsHyperVHost,
			sentinel: errdefs.ErrInvalidArgument, contains: []string{`"kata"`, "hyperv, process"},
		},
		{
			name: "hyperv on linux", cfg: windowsTestConfig(), handler: "hyperv", host: linuxTestHost,
			sentinel: errdefs.ErrFailedPrecondition, contains: []string{"Hyper-V isolation needs a Windows host with the Hyper-V role", "linux"},
		},
		{
			name: "hyperv on windows without the role", cfg: windowsTestConfig(), handler: "hyperv", host: windowsServerHost,
			sentinel: errdefs.ErrFailedPrecondition, contains: []string{"Hyper-V isolation needs a Windows host with the Hyper-V role", "not installed"},
		},
		{
			name: "absurd configured UVM memory", handler: "hyperv", host: windowsHyperVHost,
			cfg: func() *config.Config {
				c := windowsTestConfig()
				c.Runtimes["hyperv"] = config.Runtime{Shim: "runhcs", Isolation: config.IsolationHyperV, UVMMemoryMB: 1 << 40}
				return c
			}(),
			sentinel: errdefs.ErrInvalidArgument, contains: []string{"runtimes.hyperv.uvm_memory_mb"},
		},
		{
			name: "absurd configured UVM processors", handler: "hyperv", host: windowsHyperVHost,
			cfg: func() *config.Config {
				c := windowsTestConfig()
				c.Runtimes["hyperv"] = config.Runtime{Shim: "runhcs", Isolation: config.IsolationHyperV, UVMProcessors: 100000}
				return c
			}(),
			sentinel: errdefs.ErrInvalidArgument, contains: []string{"runtimes.hyperv.uvm_processors"},
		},
		{
			name: "no config", cfg: nil, handler: "process", host: linuxTestHost,
			sentinel: errdefs.ErrInvalidArgument,
		},
		{
			name: "process handler on an unsupported OS", cfg: windowsTestConfig(), handler: "process", host: Host{OS: "plan9"},
			sentinel: errdefs.ErrNotImplemented, contains: []string{"plan9"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolveOn(tt.cfg, tt.handler, tt.host)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.sentinel)
			for _, s := range tt.contains {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestResolveOnThisHost(t *testing.T) {
	h, err := Resolve(windowsTestConfig(), "process")
	if err != nil {
		// Hosts other than Windows and Linux cannot run pods at all.
		require.ErrorIs(t, err, errdefs.ErrNotImplemented)
		return
	}
	assert.Equal(t, ProbeHost().OS, h.OS)
}

func TestHostFromServices(t *testing.T) {
	tests := []struct {
		name        string
		installed   map[string]bool
		probeErr    error
		wantHyperV  bool
		wantMissing []string
	}{
		{name: "hyper-v role and containers feature", installed: map[string]bool{"vmms": true, "vmcompute": true}, wantHyperV: true},
		{name: "containers feature only (Windows Server without the role)", installed: map[string]bool{"vmcompute": true}, wantMissing: []string{"vmms", "Hyper-V role"}},
		{name: "hyper-v role only", installed: map[string]bool{"vmms": true}, wantMissing: []string{"vmcompute", "Containers feature"}},
		{name: "probe fails", probeErr: errors.New("access denied"), wantMissing: []string{"access denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := hostFromServices(func(name string) (bool, error) {
				return tt.installed[name], tt.probeErr
			})
			assert.Equal(t, OSWindows, host.OS)
			assert.Equal(t, tt.wantHyperV, host.HyperV)
			for _, s := range tt.wantMissing {
				assert.Contains(t, host.HyperVMissing, s)
			}
			if tt.wantHyperV {
				assert.Empty(t, host.HyperVMissing)
			}
		})
	}
}

// The seed's rules for process isolation on Windows (ARCHITECTURE.md,
// the Windows isolation rules): a host below build 17763 cannot run it,
// and on client Windows it is for development and test only, which
// ProcessOnClient reports so that RunPodSandbox warns.
func TestProcessIsolationHostRules(t *testing.T) {
	cfg := config.Default()
	cfg.Runtimes = map[string]config.Runtime{
		"process": {Shim: "runhcs", Isolation: config.IsolationProcess},
		"hyperv":  {Shim: "runhcs", Isolation: config.IsolationHyperV},
	}
	cfg.DefaultRuntime = "process"
	tests := []struct {
		name       string
		host       Host
		handler    string
		wantErr    string
		wantClient bool
	}{
		{name: "server 2019", host: Host{OS: OSWindows, HyperV: true, OSBuild: 17763}, handler: "process"},
		{name: "unknown build", host: Host{OS: OSWindows, HyperV: true}, handler: "process"},
		{name: "server 2016", host: Host{OS: OSWindows, HyperV: true, OSBuild: 14393}, handler: "process",
			wantErr: "process isolation needs Windows build 17763 or later; this host is build 14393"},
		{name: "server 2016, hyperv", host: Host{OS: OSWindows, HyperV: true, OSBuild: 14393}, handler: "hyperv"},
		{name: "client windows 11", host: Host{OS: OSWindows, HyperV: true, OSBuild: 22631, ClientSKU: true}, handler: "process", wantClient: true},
		{name: "client windows 11, hyperv", host: Host{OS: OSWindows, HyperV: true, OSBuild: 22631, ClientSKU: true}, handler: "hyperv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ResolveOn(cfg, tt.handler, tt.host)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
				assert.ErrorContains(t, err, tt.wantErr)
				assert.ErrorContains(t, err, "hyperv", "names the handler that can run pods here")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantClient, ProcessOnClient(h, tt.host))
		})
	}
}
