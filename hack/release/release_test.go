package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/pe"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/config"
)

const testVersion = "v9.9.9-test"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// output runs a command in the repository and returns its standard output.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), stderr.String())
	return strings.TrimSpace(string(out))
}

// criToolsVersion is the pin of hack/lib.sh.
func criToolsVersion(t *testing.T) string {
	lib, err := os.ReadFile(filepath.Join(repoRoot(t), "hack", "lib.sh"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^CRI_TOOLS_VERSION=(v\S+)$`).FindSubmatch(lib)
	require.NotNil(t, m, "hack/lib.sh pins no CRI_TOOLS_VERSION")
	return string(m[1])
}

func setting(info *debug.BuildInfo, key string) string {
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// TestRelease builds the release zip with hack/release.sh, as a release
// is built, and checks what a node owner gets.
func TestRelease(t *testing.T) {
	out := t.TempDir()
	stdout := output(t, "bash", "hack/release.sh", "--out", out, "--version", testVersion)
	lines := strings.Split(stdout, "\n")
	top := "wincri-" + testVersion + "-windows-amd64"
	zipPath := filepath.Join(out, top+".zip")
	require.Equal(t, zipPath, lines[len(lines)-1], "the last line of stdout is the zip's path")

	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		assert.Equal(t, zr.File[0].Modified, f.Modified, "%s: every entry has the same time", f.Name)
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		files[strings.TrimPrefix(f.Name, top+"/")] = data
	}
	want := []string{top + "/"}
	for _, n := range []string{"Install-Wincri.ps1", "README.md", "SHA256SUMS", "Uninstall-Wincri.ps1", "config.toml", "crictl.exe", "wincri-logger.exe", "wincri.exe"} {
		want = append(want, top+"/"+n)
	}
	require.Equal(t, want, names, "the zip holds exactly these entries, in this order")

	t.Run("binaries", func(t *testing.T) {
		head := output(t, "git", "rev-parse", "HEAD")
		for _, name := range []string{"wincri.exe", "wincri-logger.exe", "crictl.exe"} {
			f, err := pe.NewFile(bytes.NewReader(files[name]))
			require.NoError(t, err, name)
			assert.Equal(t, uint16(pe.IMAGE_FILE_MACHINE_AMD64), f.Machine, name)
			assert.NotZero(t, f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE, name)
			opt, ok := f.OptionalHeader.(*pe.OptionalHeader64)
			require.True(t, ok, name)
			assert.Equal(t, uint16(pe.IMAGE_SUBSYSTEM_WINDOWS_CUI), opt.Subsystem, "%s is a console program", name)
		}
		for _, cmd := range []string{"wincri", "wincri-logger"} {
			info, err := buildinfo.Read(bytes.NewReader(files[cmd+".exe"]))
			require.NoError(t, err, cmd)
			assert.Equal(t, "github.com/wincri/wincri/cmd/"+cmd, info.Path)
			assert.Equal(t, "github.com/wincri/wincri", info.Main.Path)
			// pkg/version reports the main module's version: the VCS tag or
			// pseudo-version the build stamped.
			assert.Regexp(t, `^v\d+\.\d+\.\d+`, info.Main.Version, "%s: the version wincri version reports", cmd)
			assert.Equal(t, head, setting(info, "vcs.revision"), cmd)
			assert.Equal(t, "true", setting(info, "-trimpath"), cmd)
			assert.Equal(t, "0", setting(info, "CGO_ENABLED"), cmd)
		}
		info, err := buildinfo.Read(bytes.NewReader(files["crictl.exe"]))
		require.NoError(t, err)
		v := criToolsVersion(t)
		assert.Equal(t, "sigs.k8s.io/cri-tools/cmd/crictl", info.Path)
		assert.Equal(t, "sigs.k8s.io/cri-tools", info.Main.Path)
		assert.Equal(t, v, info.Main.Version)
		assert.Equal(t, "true", setting(info, "-trimpath"), "built as cri-tools builds it (a trimmed build records no -ldflags)")
	})

	t.Run("SHA256SUMS", func(t *testing.T) {
		var listed []string
		for _, line := range strings.Split(strings.TrimSuffix(string(files["SHA256SUMS"]), "\n"), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			require.True(t, ok, "%q is not sha256sum's format", line)
			require.Contains(t, files, name)
			assert.Equal(t, fmt.Sprintf("%x", sha256.Sum256(files[name])), sum, name)
			listed = append(listed, name)
		}
		var others []string
		for name := range files {
			if name != "SHA256SUMS" {
				others = append(others, name)
			}
		}
		sort.Strings(others)
		assert.Equal(t, others, listed, "every other file, sorted by name")
	})

	t.Run("config.toml", func(t *testing.T) {
		assert.NotRegexp(t, `(?m)^\s*default_runtime\s*=`, string(files["config.toml"]), "the default runtime follows the host")
		cfg, err := config.Parse(files["config.toml"])
		require.NoError(t, err)
		want := config.WindowsDefault()
		want.DefaultRuntime = config.Default().DefaultRuntime
		assert.Equal(t, want, cfg)
		assert.Equal(t, []string{"hyperv", "process"}, cfg.HandlerNames())
		assert.Equal(t, config.WindowsSandboxImage, cfg.Image.SandboxImage)
	})

	t.Run("scripts", func(t *testing.T) {
		shim := output(t, "go", "list", "-m", "-f", "{{with .Replace}}{{.Version}}{{else}}{{.Version}}{{end}}", hcsshimModule)
		require.Regexp(t, `^v\d+\.\d+\.\d+`, shim)
		for _, name := range append(scripts, "README.md") {
			text := string(files[name])
			assert.Empty(t, regexp.MustCompile(`@[A-Z][A-Z0-9_]*@`).FindAllString(text, -1), "%s has placeholders left", name)
			assert.True(t, strings.Contains(text, "hcsshim "+shim), "%s does not name hcsshim %s", name, shim)
		}
		assert.Contains(t, string(files["README.md"]), "# wincri "+testVersion+" ")
		for _, name := range scripts {
			checkScript(t, name, string(files[name]))
		}
	})
}
