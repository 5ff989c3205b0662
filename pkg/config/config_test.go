package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultIsValidAndRendersRoundTrip(t *testing.T) {
	def := Default()
	require.NoError(t, def.Validate())
	out, err := Render(def)
	require.NoError(t, err)
	back, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, def, back, "wincri config default must parse back to the defaults:\n%s", out)
}

func TestRenderCommentsEveryKey(t *testing.T) {
	for name, c := range map[string]*Config{"Default": Default(), "WindowsDefault": WindowsDefault()} {
		t.Run(name, func(t *testing.T) {
			out, err := Render(c)
			require.NoError(t, err)
			lines := strings.Split(string(out), "\n")
			for i, l := range lines {
				if l == "" || l[0] == '#' || l[0] == '[' {
					continue
				}
				require.Greater(t, i, 0)
				assert.Equal(t, byte('#'), lines[i-1][0], "key line %q has no comment above it", l)
			}
		})
	}
}

func TestWindowsDefaultRendersOnEveryOS(t *testing.T) {
	out, err := Render(WindowsDefault())
	require.NoError(t, err)
	assert.NotRegexp(t, `(?m)^\s*default_runtime\s*=`, string(out), "an unset default_runtime stays commented")
	assert.Contains(t, string(out), "\n# default_runtime = \"process\"   (unset: follows the host: process on Windows Server, hyperv on client Windows)\n")

	back, err := Parse(out)
	require.NoError(t, err)
	shim := "containerd-shim-runhcs-v1.exe"
	assert.Equal(t, map[string]Runtime{
		"process": {Shim: shim, Isolation: IsolationProcess},
		"hyperv":  {Shim: shim, Isolation: IsolationHyperV},
	}, back.Runtimes)
	assert.Equal(t, "registry.k8s.io/pause:3.10.2", back.Image.SandboxImage)
	assert.Equal(t, CNI{BinDirs: []string{`C:\opt\cni\bin`}, ConfDir: `C:\etc\cni\net.d`}, back.CNI)
	assert.Equal(t, Default().DefaultRuntime, back.DefaultRuntime, "an absent default_runtime is this host's default")

	want := WindowsDefault()
	want.DefaultRuntime = back.DefaultRuntime
	assert.Equal(t, want, back, "everything else parses back as it was rendered")
	if runtime.GOOS == "windows" {
		assert.Equal(t, Default(), back, "on Windows, the shipped configuration is the built-in default")
	}
}

func TestRenderWithMirrorsRoundTrips(t *testing.T) {
	c := Default()
	c.Image.Mirrors = map[string][]string{"registry.example": {"http://127.0.0.1:5000", "https://mirror.example"}}
	c.Image.InsecureRegistries = []string{"reg.local:5000"}
	off, on := false, true
	c.Runtimes["hyperv"] = Runtime{Shim: "runhcs", Isolation: IsolationHyperV, UVMMemoryMB: 2048, UVMProcessors: 2, SandboxOSBuild: 17763,
		PodAnnotations: []string{"io.microsoft.virtualmachine.*", "example.com/x"}, ContainerAnnotations: []string{},
		Runhcs: Runhcs{
			ScaleCPULimitsToSandbox: &off, ScrubLogs: &on, BootFilesRootPath: `C:\boot`,
			DefaultContainerScratchSizeInGB: 30, DefaultVMScratchSizeInGB: 40, ShareScratch: true,
			NCProxyAddr: "127.0.0.1:6669", IORetryTimeoutInSec: 7, NoInheritHostTimezone: true, GPUVHDPath: `C:\gpu.vhdx`,
			DefaultContainerAnnotations: map[string]string{"io.microsoft.container.storage.qos.iopsmaximum": "500", "b": "c"},
		}}
	out, err := Render(c)
	require.NoError(t, err)
	back, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, c, back)
}

func TestAnnotationPatternDefaults(t *testing.T) {
	// containerd v2.4.2's Windows defaults (internal/cri/config/config_windows.go,
	// DefaultRuntimeConfig): runhcs-wcow-process passes container
	// annotations io.microsoft.container.*, runhcs-wcow-hypervisor also
	// pod annotations io.microsoft.virtualmachine.*.
	tests := []struct {
		name     string
		rt       Runtime
		pod, ctr []string
	}{
		{name: "process defaults", rt: Runtime{Isolation: IsolationProcess}, pod: []string{}, ctr: []string{"io.microsoft.container.*"}},
		{name: "hyperv defaults", rt: Runtime{Isolation: IsolationHyperV}, pod: []string{"io.microsoft.virtualmachine.*"}, ctr: []string{"io.microsoft.container.*"}},
		{name: "explicitly none", rt: Runtime{Isolation: IsolationHyperV, PodAnnotations: []string{}, ContainerAnnotations: []string{}}, pod: []string{}, ctr: []string{}},
		{name: "own lists", rt: Runtime{Isolation: IsolationProcess, PodAnnotations: []string{"a.*"}, ContainerAnnotations: []string{"b"}}, pod: []string{"a.*"}, ctr: []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.pod, tt.rt.PodAnnotationPatterns())
			assert.Equal(t, tt.ctr, tt.rt.ContainerAnnotationPatterns())
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{name: "empty document is the defaults", doc: "", check: func(t *testing.T, c *Config) {
			assert.Equal(t, Default(), c)
		}},
		{name: "partial table keeps other defaults", doc: "[streaming]\nport = 10010\n", check: func(t *testing.T, c *Config) {
			assert.Equal(t, 10010, c.Stream.Port)
			assert.Equal(t, "127.0.0.1", c.Stream.Address)
			assert.Equal(t, Default().CNI, c.CNI)
		}},
		{name: "runtimes replace the default handlers", doc: "default_runtime = \"fast\"\n[runtimes.fast]\nshim = \"/opt/shim\"\nisolation = \"process\"\n", check: func(t *testing.T, c *Config) {
			assert.Equal(t, []string{"fast"}, c.HandlerNames())
		}},
		{name: "mirrors", doc: "[image.mirrors]\n\"registry.k8s.io\" = [\"http://127.0.0.1:5000\"]\n", check: func(t *testing.T, c *Config) {
			assert.Equal(t, []string{"http://127.0.0.1:5000"}, c.Image.Mirrors["registry.k8s.io"])
		}},
		{name: "duration", doc: "[image]\npull_progress_timeout = \"90s\"\n", check: func(t *testing.T, c *Config) {
			assert.Equal(t, 90*time.Second, c.Image.PullProgressTimeout.Duration)
		}},
		{name: "unknown top-level key", doc: "\n\nsandbox_image = \"x\"\n", wantErr: `line 3: unknown key "sandbox_image"`},
		{name: "unknown nested key", doc: "[cni]\nbin_dir = []\n", wantErr: `line 2: unknown key "cni.bin_dir"`},
		{name: "wrong type", doc: "[streaming]\nport = \"10010\"\n", wantErr: `line 2 column 8: key "streaming.port"`},
		{name: "bad toml", doc: "[image\n", wantErr: "line 1"},
		{name: "negative limit", doc: "[limits]\nmax_concurrent_hcs_ops = -1\n", wantErr: "limits.max_concurrent_hcs_ops: -1 is negative (0 is no limit)"},
		{name: "bad duration", doc: "[image]\npull_progress_timeout = \"soon\"\n", wantErr: `key "image.pull_progress_timeout"`},
		{name: "unknown default runtime", doc: "default_runtime = \"gvisor\"\n", wantErr: `default_runtime: "gvisor" is not a configured handler`},
		{name: "bad isolation", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"vm\"\n", wantErr: `runtimes.process.isolation: "vm"`},
		{name: "missing shim", doc: "[runtimes.process]\nisolation = \"process\"\n", wantErr: "runtimes.process.shim: must not be empty"},
		{name: "bad annotation pattern", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"process\"\npod_annotations = [\"io.[\"]\n",
			wantErr: `runtimes.process.pod_annotations: "io.[" is not a valid pattern`},
		{name: "empty annotation pattern", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"process\"\ncontainer_annotations = [\"\"]\n",
			wantErr: "runtimes.process.container_annotations"},
		{name: "cpu scaling without a utility VM", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"process\"\n[runtimes.process.runhcs]\nscale_cpu_limits_to_sandbox = true\n",
			wantErr: "applies to hyperv isolation only"},
		{name: "unknown runhcs option", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"process\"\n[runtimes.process.runhcs]\nsandbox_isolation = 1\n",
			wantErr: `unknown key "runtimes.process.runhcs.sandbox_isolation"`},
		{name: "sandbox build of a hyperv handler", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"hyperv\"\nsandbox_os_build = 17763\n", check: func(t *testing.T, c *Config) {
			assert.Equal(t, uint32(17763), c.Runtimes["process"].SandboxOSBuild)
		}},
		{name: "sandbox build of a process handler", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"process\"\nsandbox_os_build = 17763\n",
			wantErr: "runtimes.process.sandbox_os_build: applies to hyperv isolation only"},
		{name: "sandbox build that is no container build", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"hyperv\"\nsandbox_os_build = 10\n",
			wantErr: "runtimes.process.sandbox_os_build: 10 is not a Windows container build (14393 or later)"},
		{name: "negative sandbox build", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"hyperv\"\nsandbox_os_build = -1\n",
			wantErr: `key "runtimes.process.sandbox_os_build"`},
		{name: "negative uvm", doc: "[runtimes.process]\nshim = \"s\"\nisolation = \"hyperv\"\nuvm_memory_mb = -1\n", wantErr: "must not be negative"},
		{name: "empty mirror list", doc: "[image.mirrors]\n\"a\" = []\n", wantErr: "image.mirrors"},
		{name: "zero downloads", doc: "[image]\nmax_concurrent_downloads = 0\n", wantErr: "max_concurrent_downloads"},
		{name: "streaming address", doc: "[streaming]\naddress = \"localhost\"\n", wantErr: "streaming.address"},
		{name: "streaming port", doc: "[streaming]\nport = 70000\n", wantErr: "streaming.port"},
		{name: "debug address", doc: "[debug]\naddress = \"9090\"\n", wantErr: "debug.address"},
		{name: "cni conf dir", doc: "[cni]\nconf_dir = \"\"\n", wantErr: "cni:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(filepath.Join(dir, "missing.toml"))
	require.NoError(t, err)
	assert.Equal(t, Default(), c, "a missing file means defaults")

	bad := filepath.Join(dir, "bad.toml")
	require.NoError(t, os.WriteFile(bad, []byte("nope = 1\n"), 0o600))
	_, err = Load(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
	assert.Contains(t, err.Error(), `unknown key "nope"`)

	_, err = Load(dir) // a directory cannot be read as a file
	require.Error(t, err)
}

func TestRuntimeLookup(t *testing.T) {
	c := Default()
	name, rt, err := c.Runtime("")
	require.NoError(t, err)
	assert.Equal(t, c.DefaultRuntime, name)
	assert.NotEmpty(t, rt.Shim)
	_, _, err = c.Runtime("nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "configured handlers are")
}

func TestDefaultHandlerForProductType(t *testing.T) {
	assert.Equal(t, "hyperv", defaultHandlerForProductType(1), "client Windows")
	assert.Equal(t, "process", defaultHandlerForProductType(2), "domain controller")
	assert.Equal(t, "process", defaultHandlerForProductType(3), "Windows Server")
}

func TestRenderRefusesOddHandlerName(t *testing.T) {
	c := Default()
	c.Runtimes["a b"] = Runtime{Shim: "s", Isolation: IsolationProcess}
	_, err := Render(c)
	require.Error(t, err)
}

func TestClientProductType(t *testing.T) {
	// OSVERSIONINFOEX.wProductType: VER_NT_WORKSTATION 1,
	// VER_NT_DOMAIN_CONTROLLER 2, VER_NT_SERVER 3.
	assert.True(t, ClientProductType(1))
	assert.False(t, ClientProductType(2))
	assert.False(t, ClientProductType(3))
}

func TestWindowsDefaults(t *testing.T) {
	// kubelet v1.37's pause image: kubeadm's PauseVersion
	// (cmd/kubeadm/app/constants/constants.go) in k8s.io/kubernetes v1.37.2.
	assert.Equal(t, "registry.k8s.io/pause:3.10.2", WindowsSandboxImage)
	assert.Regexp(t, `^registry\.k8s\.io/pause:\d+\.\d+(\.\d+)?$`, WindowsSandboxImage)
	cni := windowsCNI()
	assert.Equal(t, []string{`C:\opt\cni\bin`}, cni.BinDirs)
	assert.Equal(t, `C:\etc\cni\net.d`, cni.ConfDir)
	cni.BinDirs[0] = "changed"
	assert.Equal(t, `C:\opt\cni\bin`, windowsCNI().BinDirs[0], "every call gets its own copy")
}

func TestPriorityClass(t *testing.T) {
	tests := []struct {
		name    string
		want    uint32
		wantErr bool
	}{
		{name: "", want: 0},
		{name: "above_normal", want: 0x8000}, // ABOVE_NORMAL_PRIORITY_CLASS
		{name: "high", want: 0x80},           // HIGH_PRIORITY_CLASS
		{name: "idle", want: 0x40},
		{name: "below_normal", want: 0x4000},
		{name: "normal", want: 0x20},
		{name: "realtime", wantErr: true},
		{name: "AboveNormal", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PriorityClassValue(tt.name)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "above_normal", "lists the valid names")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := Parse([]byte("priority_class = \"realtime\"\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "priority_class")
	c, err := Parse([]byte("priority_class = \"above_normal\"\n"))
	require.NoError(t, err)
	assert.Equal(t, "above_normal", c.PriorityClass)
}
