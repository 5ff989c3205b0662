package version

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShimBinaryFromBuildInfo(t *testing.T) {
	hcsshim := func(v string) debug.Module { return debug.Module{Path: hcsshimModule, Version: v} }
	tests := []struct {
		name    string
		info    debug.BuildInfo
		want    string
		wantErr string
	}{
		{name: "go install of a release", info: debug.BuildInfo{Path: runhcsMain, Main: hcsshim("v0.15.0")}, want: "v0.15.0"},
		{name: "checkout build", info: debug.BuildInfo{Path: runhcsMain, Main: hcsshim("(devel)")}, want: ""},
		{
			// containerd's Windows release builds the shim in its own module.
			name: "built by another module",
			info: debug.BuildInfo{Path: runhcsMain, Main: debug.Module{Path: "github.com/containerd/containerd/v2", Version: "(devel)"},
				Deps: []*debug.Module{{Path: hcsshimModule, Version: "v0.14.1"}}},
			want: "v0.14.1",
		},
		{name: "another program", info: debug.BuildInfo{Path: "github.com/wincri/wincri/cmd/wincri"}, wantErr: "not containerd-shim-runhcs-v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shimBinaryFromBuildInfo(&tt.info)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// The lines follow hcsshim v0.15.0 cmd/containerd-shim-runhcs-v1/main.go
// (app.Version: the release, "commit: ...", "spec: ...") as urfave/cli
// prints them; the last case is what the development build in
// ../shared/windows prints.
func TestShimVersionOutput(t *testing.T) {
	tests := []struct {
		out, want string
	}{
		{"containerd-shim-runhcs-v1 version v0.15.0\ncommit: 0123abc\nspec: 1.3.0\n", "v0.15.0"},
		{"containerd-shim-runhcs-v1 version v0.14.1-rc.1\r\nspec: 1.2.1\r\n", "v0.14.1-rc.1"},
		{"containerd-shim-runhcs-v1 version spec: 1.3.0\n", ""},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ShimVersionOutput(tt.out), "%q", tt.out)
	}
}

// TestCheckShimNotAShim reads a real executable: the test binary is not
// containerd-shim-runhcs-v1.
func TestCheckShimNotAShim(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	_, err = CheckShim(self, nil)
	require.ErrorContains(t, err, "not containerd-shim-runhcs-v1")
}

func TestCheckShimVersions(t *testing.T) {
	const want = "v0.15.0"
	tests := []struct {
		name, printed, wantErr string
	}{
		{name: "tested release", printed: "containerd-shim-runhcs-v1 version " + want + "\nspec: 1.3.0"},
		{name: "other release", printed: "containerd-shim-runhcs-v1 version v0.1.0\n", wantErr: "from hcsshim v0.1.0, but wincri is tested against hcsshim " + want},
		{name: "no release", printed: "containerd-shim-runhcs-v1 version spec: 1.3.0\n", wantErr: "records no hcsshim release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := checkShimVersion("shim.exe", "", want, func(string) (string, error) { return tt.printed, nil })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, msg, "the release wincri is tested against")
		})
	}
}
