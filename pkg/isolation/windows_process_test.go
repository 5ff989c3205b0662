package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestWindowsCommand(t *testing.T) {
	image := &imagespec.ImageConfig{Entrypoint: []string{"app.exe", "--serve"}, Cmd: []string{"--port", "80"}}
	noEntrypoint := &imagespec.ImageConfig{Cmd: []string{"cmd.exe", "/c", "echo hi"}}
	//lint:ignore SA1019 Windows images built by Docker carry it
	escaped := &imagespec.ImageConfig{Cmd: []string{`cmd /S /C "echo hi & ping -t localhost"`}, ArgsEscaped: true}
	//lint:ignore SA1019 as above
	escapedEntrypoint := &imagespec.ImageConfig{Entrypoint: []string{`powershell -Command "& {Start-Sleep 10}"`}, ArgsEscaped: true}
	tests := []struct {
		name        string
		command     []string
		args        []string
		image       *imagespec.ImageConfig
		wantArgs    []string
		wantCmdLine string
	}{
		{name: "image entrypoint and cmd", image: image, wantArgs: []string{"app.exe", "--serve", "--port", "80"}},
		{name: "args replace cmd", args: []string{"--port", "8080"}, image: image, wantArgs: []string{"app.exe", "--serve", "--port", "8080"}},
		{name: "command replaces entrypoint and drops cmd", command: []string{"other.exe"}, image: image, wantArgs: []string{"other.exe"}},
		{name: "command and args", command: []string{"other.exe"}, args: []string{"-v"}, image: image, wantArgs: []string{"other.exe", "-v"}},
		{name: "args alone without image entrypoint", args: []string{"ping.exe", "-t", "localhost"}, image: noEntrypoint, wantArgs: []string{"ping.exe", "-t", "localhost"}},
		{name: "image cmd alone", image: noEntrypoint, wantArgs: []string{"cmd.exe", "/c", "echo hi"}},
		{name: "pre-escaped image cmd goes to CommandLine as is", image: escaped, wantCmdLine: `cmd /S /C "echo hi & ping -t localhost"`},
		{
			name: "pre-escaped image entrypoint with CRI args", args: []string{"a b", `c"d`}, image: escapedEntrypoint,
			wantCmdLine: `powershell -Command "& {Start-Sleep 10}" "a b" "c\"d"`,
		},
		{name: "CRI command ignores ArgsEscaped", command: []string{"cmd.exe", "/c", "echo a b"}, image: escaped, wantArgs: []string{"cmd.exe", "/c", "echo a b"}},
		{name: "CRI args over an escaped cmd without entrypoint", args: []string{"ping.exe"}, image: escaped, wantArgs: []string{"ping.exe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p specs.Process
			require.NoError(t, windowsCommand(&p, tt.command, tt.args, tt.image))
			assert.Equal(t, tt.wantArgs, p.Args)
			assert.Equal(t, tt.wantCmdLine, p.CommandLine)
		})
	}
}

func TestWindowsCommandMissing(t *testing.T) {
	var p specs.Process
	err := windowsCommand(&p, nil, nil, &imagespec.ImageConfig{})
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "no command to run")
}

func TestEscapeWindowsArg(t *testing.T) {
	for in, want := range map[string]string{
		``:                 `""`,
		`plain`:            `plain`,
		`C:\path\x.exe`:    `C:\path\x.exe`,
		`two words`:        `"two words"`,
		"tab\there":        "\"tab\there\"",
		`say "hi"`:         `"say \"hi\""`,
		`C:\dir with\`:     `"C:\dir with\\"`,
		`back\"quote`:      `"back\\\"quote"`,
		`trailing\\ two\\`: `"trailing\\ two\\\\"`,
	} {
		assert.Equal(t, want, escapeWindowsArg(in), in)
	}
}

func TestMergeWindowsEnv(t *testing.T) {
	image := []string{`PATH=C:\Windows\system32;C:\Windows`, "APP_MODE=image", "EMPTY=", "NOEQUALS"}
	cri := []*runtimeapi.KeyValue{
		{Key: "app_mode", Value: []byte("cri")},
		{Key: "Path", Value: []byte(`C:\app;C:\Windows`)},
		{Key: "NEW", Value: []byte("x=y")},
	}
	env, err := mergeWindowsEnv(image, cri)
	require.NoError(t, err)
	// Names match case-insensitively; the CRI entry replaces the image's
	// in place, spelled the CRI's way.
	assert.Equal(t, []string{`Path=C:\app;C:\Windows`, "app_mode=cri", "EMPTY=", "NOEQUALS=", "NEW=x=y"}, env)

	for _, bad := range []string{"", "A=B"} {
		_, err := mergeWindowsEnv(nil, []*runtimeapi.KeyValue{{Key: bad}})
		require.ErrorIs(t, err, errdefs.ErrInvalidArgument, bad)
	}
}

func TestWindowsProcessDefaults(t *testing.T) {
	tests := []struct {
		name       string
		workingDir string
		username   string
		image      *imagespec.ImageConfig
		wantCwd    string
		wantUser   string
	}{
		{name: "CRI wins", workingDir: `C:\app`, username: `NT AUTHORITY\NETWORK SERVICE`,
			image: &imagespec.ImageConfig{Cmd: []string{"x"}, WorkingDir: `C:\img`, User: "ContainerUser"}, wantCwd: `C:\app`, wantUser: `NT AUTHORITY\NETWORK SERVICE`},
		{name: "image values", image: &imagespec.ImageConfig{Cmd: []string{"x"}, WorkingDir: `C:\img`, User: "ContainerUser"}, wantCwd: `C:\img`, wantUser: "ContainerUser"},
		{name: "defaults", image: &imagespec.ImageConfig{Cmd: []string{"x"}}, wantCwd: `C:\`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := windowsProcess(nil, nil, tt.workingDir, tt.username, nil, true, tt.image)
			require.NoError(t, err)
			assert.Equal(t, tt.wantCwd, p.Cwd)
			assert.Equal(t, tt.wantUser, p.User.Username)
			assert.True(t, p.Terminal)
		})
	}

	_, err := windowsProcess(nil, nil, "", "", nil, false, nil)
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument, "no image config and no command")
}
