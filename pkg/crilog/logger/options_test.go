package logger

import (
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// abs makes a rooted slash path absolute on the OS the test runs on.
func abs(p string) string {
	if runtime.GOOS == "windows" {
		return `C:` + filepath.FromSlash(p)
	}
	return p
}

func validOptions(t *testing.T) Options {
	return Options{
		ID:           "3f2a9c",
		LogDirectory: abs("/var/log/pods/ns_pod_uid with space"),
		LogPath:      "app/0.log",
		StateDir:     abs("/run/wincri/log"),
		MaxLineSize:  4096,
	}
}

// shimArgs builds the logger's arguments from a binary URI the way both
// shims do: every query key, then its first value, in map order.
func shimArgs(t *testing.T, uri string) (path string, args []string) {
	t.Helper()
	u, err := url.Parse(uri)
	require.NoError(t, err)
	for k, vs := range u.Query() {
		args = append(args, k)
		if len(vs) > 0 && vs[0] != "" {
			args = append(args, vs[0])
		}
	}
	return u.Path, args
}

// executable turns the URI path back into the file the shim runs;
// runhcs cleans it and drops the slash before a drive letter.
func executable(p string) string {
	p = filepath.Clean(filepath.FromSlash(p))
	if runtime.GOOS == "windows" {
		p = strings.TrimPrefix(p, `\`)
	}
	return p
}

func TestBinaryURIRoundTrip(t *testing.T) {
	for _, mutate := range []func(*Options){
		func(*Options) {},
		func(o *Options) { o.MaxLineSize = 0 },
		func(o *Options) { o.LogPath = "weird name&x=y#frag%20.log" },
	} {
		o := validOptions(t)
		mutate(&o)
		uri, err := BinaryURI(abs("/usr/local/bin/wincri-logger"), o)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(uri, uriScheme+":///"), uri)

		// Map order differs between runs; try several.
		for range 10 {
			path, args := shimArgs(t, uri)
			assert.Equal(t, abs("/usr/local/bin/wincri-logger"), executable(path))
			got, err := ParseArgs(args)
			require.NoError(t, err)
			assert.Equal(t, o, got)
		}
	}
}

func TestBinaryURIRejects(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		mutate func(*Options)
	}{
		{"relative logger", "wincri-logger", func(*Options) {}},
		{"empty id", "/l", func(o *Options) { o.ID = "" }},
		{"id with slash", "/l", func(o *Options) { o.ID = "../x" }},
		{"id too long", "/l", func(o *Options) { o.ID = strings.Repeat("a", 129) }},
		{"relative log dir", "/l", func(o *Options) { o.LogDirectory = "var/log" }},
		{"escaping log path", "/l", func(o *Options) { o.LogPath = "../x.log" }},
		{"absolute log path", "/l", func(o *Options) { o.LogPath = "/x.log" }},
		{"log path is dir", "/l", func(o *Options) { o.LogPath = "a/.." }},
		{"empty log path", "/l", func(o *Options) { o.LogPath = "" }},
		{"relative state dir", "/l", func(o *Options) { o.StateDir = "run" }},
		{"negative line size", "/l", func(o *Options) { o.MaxLineSize = -1 }},
		{"huge line size", "/l", func(o *Options) { o.MaxLineSize = MaxMaxLineSize + 1 }},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests, struct {
			name   string
			path   string
			mutate func(*Options)
		}{"socket path too long", "/l", func(o *Options) { o.StateDir = "/" + strings.Repeat("d", 100) }})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions(t)
			tt.mutate(&o)
			_, err := BinaryURI(abs(tt.path), o)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}

func TestParseArgsRejects(t *testing.T) {
	base := []string{"id", "c1", "log-dir", abs("/l"), "log-path", "0.log", "state-dir", abs("/s")}
	_, err := ParseArgs(base)
	require.NoError(t, err)

	tests := []struct {
		name string
		args []string
	}{
		{"odd count", append(append([]string(nil), base...), "max-line-size")},
		{"unknown key", append(append([]string(nil), base...), "color", "red")},
		{"duplicate key", append(append([]string(nil), base...), "id", "c2")},
		{"bad number", append(append([]string(nil), base...), "max-line-size", "lots")},
		{"missing state dir", base[:6]},
		{"nothing", nil},
		// hcsshim drops an empty value, which shifts the pairs.
		{"dropped value", []string{"id", "log-dir", "/l", "log-path", "0.log", "state-dir", "/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArgs(tt.args)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}

func TestControlNames(t *testing.T) {
	a := windowsPipeName(`C:\ProgramData\wincri\log`, "c1")
	assert.True(t, strings.HasPrefix(a, `\\.\pipe\wincri-logger-`), a)
	assert.True(t, strings.HasSuffix(a, "-c1"), a)
	assert.Equal(t, a, windowsPipeName(`C:\ProgramData\wincri\log`, "c1"), "stable across restarts")
	assert.NotEqual(t, a, windowsPipeName(`C:\other`, "c1"), "state directories kept apart")
	assert.NotEqual(t, a, windowsPipeName(`C:\ProgramData\wincri\log`, "c2"))

	p, err := unixSocketPath("/run/wincri/log", "c1")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/run/wincri/log", "c1.sock"), p)
	_, err = unixSocketPath("/run/"+strings.Repeat("x", 100), "c1")
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
}

func TestDefaultBinaryPath(t *testing.T) {
	p, err := DefaultBinaryPath()
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(p), p)
	assert.Equal(t, binaryName, filepath.Base(p))
}

func TestAttachOnlyLogger(t *testing.T) {
	o := Options{ID: "abc", StateDir: "/run/wincri/log"}
	require.True(t, o.NoLog())
	require.NoError(t, o.Validate(), "a logger without a log file serves attach only")
	uri, err := BinaryURI("/usr/local/bin/wincri-logger", o)
	require.NoError(t, err)
	assert.NotContains(t, uri, argLogDir)
	u, err := url.Parse(uri)
	require.NoError(t, err)
	var args []string
	for k, v := range u.Query() {
		args = append(args, k, v[0])
	}
	back, err := ParseArgs(args)
	require.NoError(t, err)
	assert.Equal(t, o, back)

	half := Options{ID: "abc", StateDir: "/run/wincri/log", LogDirectory: "/var/log/pods/x"}
	assert.Error(t, half.Validate(), "a log directory without a log path is not attach-only")
}

func TestArgsRoundTrip(t *testing.T) {
	for _, o := range []Options{
		{ID: "c1", StateDir: "/state", LogDirectory: "/logs", LogPath: "app/0.log", MaxLineSize: 4096, Stdin: true, Terminal: true},
		{ID: "c2", StateDir: "/state", Stdin: true},
		{ID: "c3", StateDir: "/state", LogDirectory: "/logs", LogPath: "x.log"},
	} {
		args, err := Args(o)
		require.NoError(t, err)
		back, err := ParseArgs(args)
		require.NoError(t, err)
		assert.Equal(t, o, back)
	}
	_, err := Args(Options{ID: "bad/id", StateDir: "/state"})
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	_, err = ParseArgs([]string{"id", "c1", "state-dir", "/state", "stdin", "maybe"})
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
}
