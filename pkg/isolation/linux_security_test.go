package isolation

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestApplyCapabilities(t *testing.T) {
	withDefaults := func(extra ...string) []string { return append(slices.Clone(defaultLinuxCaps), extra...) }
	without := func(set []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(set), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name        string
		caps        *runtimeapi.Capability
		privileged  bool
		want        []string
		wantAmbient []string
		held        []string
		wantErr     error
	}{
		{name: "defaults", want: defaultLinuxCaps},
		{name: "add one", caps: &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN"}}, want: withDefaults("CAP_NET_ADMIN")},
		{name: "add lower case with prefix", caps: &runtimeapi.Capability{AddCapabilities: []string{"cap_sys_time"}}, want: withDefaults("CAP_SYS_TIME")},
		{name: "add existing is no duplicate", caps: &runtimeapi.Capability{AddCapabilities: []string{"CHOWN"}}, want: defaultLinuxCaps},
		{name: "drop one", caps: &runtimeapi.Capability{DropCapabilities: []string{"NET_RAW"}}, want: without(defaultLinuxCaps, "CAP_NET_RAW")},
		{name: "add all", caps: &runtimeapi.Capability{AddCapabilities: []string{"ALL"}}, want: allLinuxCaps},
		{name: "add all drop one", caps: &runtimeapi.Capability{AddCapabilities: []string{"ALL"}, DropCapabilities: []string{"SYS_ADMIN"}}, want: without(allLinuxCaps, "CAP_SYS_ADMIN")},
		{name: "drop all", caps: &runtimeapi.Capability{DropCapabilities: []string{"ALL"}}, want: nil},
		{name: "drop all add one", caps: &runtimeapi.Capability{DropCapabilities: []string{"all"}, AddCapabilities: []string{"NET_BIND_SERVICE"}}, want: []string{"CAP_NET_BIND_SERVICE"}},
		{name: "privileged ignores drops", caps: &runtimeapi.Capability{DropCapabilities: []string{"ALL"}}, privileged: true, want: allLinuxCaps},
		{name: "ambient", caps: &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN"}, AddAmbientCapabilities: []string{"NET_ADMIN"}}, want: withDefaults("CAP_NET_ADMIN"), wantAmbient: []string{"CAP_NET_ADMIN"}},
		{name: "ambient outside the set", caps: &runtimeapi.Capability{AddAmbientCapabilities: []string{"SYS_ADMIN"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "ambient ALL", caps: &runtimeapi.Capability{AddAmbientCapabilities: []string{"ALL"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "unknown", caps: &runtimeapi.Capability{AddCapabilities: []string{"FLY"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "privileged gets what the runtime holds", privileged: true, held: without(allLinuxCaps, "CAP_SYS_RESOURCE"), want: without(allLinuxCaps, "CAP_SYS_RESOURCE")},
		{name: "add ALL gets what the runtime holds", caps: &runtimeapi.Capability{AddCapabilities: []string{"ALL"}}, held: without(allLinuxCaps, "CAP_SYS_RESOURCE"), want: without(allLinuxCaps, "CAP_SYS_RESOURCE")},
		{name: "add a capability the runtime lacks", caps: &runtimeapi.Capability{AddCapabilities: []string{"SYS_RESOURCE"}}, held: without(allLinuxCaps, "CAP_SYS_RESOURCE"), wantErr: errdefs.ErrFailedPrecondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := newLinuxSpec("/r", false)
			held := allLinuxCaps
			if tt.held != nil {
				held = tt.held
			}
			err := applyCapabilities(spec, tt.caps, tt.privileged, held)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			c := spec.Process.Capabilities
			assert.ElementsMatch(t, tt.want, c.Bounding)
			assert.ElementsMatch(t, tt.want, c.Effective)
			assert.ElementsMatch(t, tt.want, c.Permitted)
			assert.Equal(t, tt.wantAmbient, c.Ambient)
			assert.Equal(t, tt.wantAmbient, c.Inheritable)
		})
	}
}

func TestApplyPaths(t *testing.T) {
	tests := []struct {
		name          string
		sc            *runtimeapi.LinuxContainerSecurityContext
		masked, ronly []string
		wantErr       bool
	}{
		{name: "defaults", sc: nil, masked: DefaultMaskedPaths, ronly: DefaultReadonlyPaths},
		{name: "override masked", sc: &runtimeapi.LinuxContainerSecurityContext{MaskedPaths: []string{"/bin/ls"}}, masked: []string{"/bin/ls"}, ronly: DefaultReadonlyPaths},
		{name: "override readonly", sc: &runtimeapi.LinuxContainerSecurityContext{ReadonlyPaths: []string{"/tmp"}}, masked: DefaultMaskedPaths, ronly: []string{"/tmp"}},
		{name: "relative path", sc: &runtimeapi.LinuxContainerSecurityContext{MaskedPaths: []string{"tmp"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := newLinuxSpec("/r", false)
			err := applyPaths(spec, tt.sc)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.masked, spec.Linux.MaskedPaths)
			assert.Equal(t, tt.ronly, spec.Linux.ReadonlyPaths)
		})
	}
}

func TestSeccompProfile(t *testing.T) {
	dir := t.TempDir()
	blockChmod := filepath.Join(dir, "block-chmod.json")
	require.NoError(t, os.WriteFile(blockChmod, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod","fchmodat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644))
	garbage := filepath.Join(dir, "garbage.json")
	require.NoError(t, os.WriteFile(garbage, []byte(`{not json`), 0o644))
	local := func(p string) *runtimeapi.SecurityProfile {
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: p}
	}
	tests := []struct {
		name        string
		profile     *runtimeapi.SecurityProfile
		legacy      string
		wantNil     bool
		wantDefault bool
		wantNames   []string
		wantErr     error
	}{
		{name: "nil is unconfined", wantNil: true},
		{name: "unconfined", profile: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, wantNil: true},
		{name: "runtime default", profile: &runtimeapi.SecurityProfile{}, wantDefault: true},
		{name: "localhost", profile: local(blockChmod), wantNames: []string{"chmod", "fchmodat"}},
		{name: "localhost missing", profile: local(filepath.Join(dir, "nope.json")), wantErr: errdefs.ErrNotFound},
		{name: "localhost relative", profile: local("nope.json"), wantErr: errdefs.ErrInvalidArgument},
		{name: "localhost empty ref", profile: local(""), wantErr: errdefs.ErrInvalidArgument},
		{name: "localhost garbage", profile: local(garbage), wantErr: errdefs.ErrInvalidArgument},
		{name: "legacy unconfined", legacy: "unconfined", wantNil: true},
		{name: "legacy runtime default", legacy: "runtime/default", wantDefault: true},
		{name: "legacy docker default", legacy: "docker/default", wantDefault: true},
		{name: "legacy localhost", legacy: "localhost/" + blockChmod, wantNames: []string{"chmod", "fchmodat"}},
		{name: "legacy unknown", legacy: "bogus", wantErr: errdefs.ErrInvalidArgument},
		{name: "message wins over legacy", profile: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, legacy: "runtime/default", wantNil: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seccompProfile(tt.profile, tt.legacy, defaultLinuxCaps)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			switch {
			case tt.wantNil:
				assert.Nil(t, got)
			case tt.wantDefault:
				require.NotNil(t, got)
				assert.Equal(t, defaultSeccompProfile(defaultLinuxCaps), got)
			default:
				require.NotNil(t, got)
				require.Len(t, got.Syscalls, 1)
				assert.Equal(t, specs.ActAllow, got.DefaultAction)
				assert.Equal(t, tt.wantNames, got.Syscalls[0].Names)
			}
		})
	}
}

func TestParseSeccompProfileDockerFormat(t *testing.T) {
	profile := `{
		"defaultAction": "SCMP_ACT_ERRNO",
		"defaultErrnoRet": 1,
		"archMap": [
			{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
			{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
		],
		"syscalls": [
			{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
			{"name": "ptrace", "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
			{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
			{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
			 "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}
		]
	}`
	tests := []struct {
		name      string
		caps      []string
		goarch    string
		wantArch  []specs.Arch
		wantRules [][]string
	}{
		{name: "amd64 defaults", caps: defaultLinuxCaps, goarch: "amd64",
			wantArch:  []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			wantRules: [][]string{{"read", "write"}, {"arch_prctl"}, {"clone"}}},
		{name: "arm64 with ptrace and admin", caps: []string{"CAP_SYS_PTRACE", "CAP_SYS_ADMIN"}, goarch: "arm64",
			wantArch:  []specs.Arch{specs.ArchAARCH64, specs.ArchARM},
			wantRules: [][]string{{"read", "write"}, {"ptrace"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSeccompProfile([]byte(profile), tt.caps, tt.goarch)
			require.NoError(t, err)
			assert.Equal(t, specs.ActErrno, got.DefaultAction)
			require.NotNil(t, got.DefaultErrnoRet)
			assert.Equal(t, uint(1), *got.DefaultErrnoRet)
			assert.Equal(t, tt.wantArch, got.Architectures)
			var rules [][]string
			for _, s := range got.Syscalls {
				rules = append(rules, s.Names)
			}
			assert.Equal(t, tt.wantRules, rules)
		})
	}

	bad := []string{
		`{"syscalls": []}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}`,
	}
	for _, b := range bad {
		_, err := parseSeccompProfile([]byte(b), nil, "amd64")
		require.ErrorIs(t, err, errdefs.ErrInvalidArgument, b)
	}
}

func TestDefaultSeccompProfile(t *testing.T) {
	plain := defaultSeccompProfile(defaultLinuxCaps)
	assert.Equal(t, specs.ActAllow, plain.DefaultAction)
	require.Len(t, plain.Syscalls, 1)
	denied := plain.Syscalls[0].Names
	for _, s := range []string{"kexec_load", "init_module", "mount", "unshare", "keyctl", "settimeofday"} {
		assert.Contains(t, denied, s)
	}
	assert.NotContains(t, denied, "sethostname", "a UTS namespace makes sethostname safe")

	admin := defaultSeccompProfile(append(slices.Clone(defaultLinuxCaps), "CAP_SYS_ADMIN", "CAP_SYS_TIME"))
	assert.NotContains(t, admin.Syscalls[0].Names, "mount")
	assert.NotContains(t, admin.Syscalls[0].Names, "settimeofday")
	assert.Contains(t, admin.Syscalls[0].Names, "keyctl", "keyrings stay denied whatever the capabilities")
}

func TestApparmorProfile(t *testing.T) {
	tests := []struct {
		name    string
		p       *runtimeapi.SecurityProfile
		legacy  string
		want    string
		wantErr bool
	}{
		{name: "none"},
		{name: "runtime default", p: &runtimeapi.SecurityProfile{}},
		{name: "unconfined", p: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}},
		{name: "localhost", p: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "my-profile"}, want: "my-profile"},
		{name: "legacy localhost", legacy: "localhost/my-profile", want: "my-profile"},
		{name: "legacy bogus", legacy: "x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apparmorProfile(tt.p, tt.legacy)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSeccompArches(t *testing.T) {
	tests := []struct {
		goarch string
		want   []specs.Arch
	}{
		{"amd64", []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
		{"arm64", []specs.Arch{specs.ArchAARCH64, specs.ArchARM}},
		{"386", []specs.Arch{specs.ArchX86}},
		{"arm", []specs.Arch{specs.ArchARM}},
		{"ppc64le", []specs.Arch{specs.ArchPPC64LE}},
		{"s390x", []specs.Arch{specs.ArchS390X}},
		{"riscv64", []specs.Arch{specs.ArchRISCV64}},
		{"loong64", []specs.Arch{specs.ArchLOONGARCH64}},
		{"wasm", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, seccompArches(tt.goarch), tt.goarch)
	}
}
