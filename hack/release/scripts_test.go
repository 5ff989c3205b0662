package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var scripts = []string{"Install-Wincri.ps1", "Uninstall-Wincri.ps1"}

func TestPSCheck(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantErr string
	}{
		{name: "blocks", src: "if ($a) { foo @(1, 2)[0] } else { @{ k = 'v' } }\n"},
		{name: "brackets in single quotes and comments", src: "Write-Host '}' # }\n'it''s ('\n"},
		{name: "escapes in double quotes", src: "\"a `\" { \"\" (\"\n"},
		{name: "subexpression with strings", src: "\"$(if ($x) { ')' } else { \"(\" })\"\n"},
		{name: "nested subexpressions", src: "\"a $(\"b $(1 + (2)) c\") d\"\n"},
		{name: "here-strings", src: "$a = @'\n} \"\n'@\n$b = @\"\n{ $(1 + (2)) '\n\"@\n"},
		{name: "empty here-string", src: "@'\n'@\n"},
		{name: "block comment", src: "<# { (\n[ #> {}\n"},
		{name: "braced variable", src: "${env:ProgramFiles(x86)}\n"},
		{name: "backtick escapes", src: "Write-Host `{ `( `\n  -NoNewline\n"},
		{name: "hash inside a word", src: "Write-Host a#b { }\n"},
		{name: "unclosed brace", src: "if ($a) {\n  foo\n", wantErr: "line 1: '{' is never closed"},
		{name: "stray closer", src: "foo\n}\n", wantErr: "line 2: '}' closes nothing"},
		{name: "mismatch", src: "foo(\n]\n", wantErr: "line 2: ']' closes '(' of line 1"},
		{name: "unterminated single quote", src: "'abc\n", wantErr: "string ' is never closed"},
		{name: "unterminated double quote", src: "x\n\"abc `\"\n", wantErr: "line 2: string \" is never closed"},
		{name: "unclosed subexpression", src: "\"$(foo\"\n", wantErr: "never closed"},
		{name: "unterminated here-string", src: "@'\nfoo\n", wantErr: "here-string @' is never closed"},
		{name: "indented here-string end", src: "@\"\nfoo\n  \"@\n", wantErr: "here-string @\" is never closed"},
		{name: "text after here-string start", src: "@' foo\n'@\n", wantErr: "must end its line"},
		{name: "unclosed block comment", src: "<# foo\n", wantErr: "block comment <# is never closed"},
		{name: "escaped brace does not open", src: "`{ }\n", wantErr: "'}' closes nothing"},
		{name: "brace in comment does not close", src: "{ # }\n", wantErr: "'{' is never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := psCheck(tt.src)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// checkScript checks what Windows PowerShell would refuse at once, and
// the preamble every script must have.
func checkScript(t *testing.T, name, src string) {
	t.Helper()
	assert.NoError(t, psCheck(src), name)
	assert.True(t, strings.HasPrefix(src, "#Requires -RunAsAdministrator\n"), "%s must start with #Requires -RunAsAdministrator", name)
	assert.Regexp(t, `(?m)^Set-StrictMode -Version Latest$`, src, name)
	assert.Regexp(t, `(?m)^\$ErrorActionPreference = 'Stop'$`, src, name)
	// Windows PowerShell reads a script without a byte order mark in the
	// system's ANSI code page: only ASCII means the same everywhere.
	for i, r := range src {
		if r > 0x7e || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') {
			t.Errorf("%s: byte %d: %q is not printable ASCII", name, i, r)
			break
		}
	}
}

func TestScriptSources(t *testing.T) {
	for _, name := range scripts {
		src, err := os.ReadFile(filepath.Join(repoRoot(t), "release", "windows", name))
		require.NoError(t, err)
		checkScript(t, name, string(src))
	}
}

// TestScriptsPassWincriFlags checks every flag the scripts give wincri.exe
// on its --register-service and --unregister-service lines against
// wincri's own flag set (registered on every OS).
func TestScriptsPassWincriFlags(t *testing.T) {
	cmd := exec.Command("go", "run", "./cmd/wincri", "--help")
	cmd.Dir = repoRoot(t)
	help, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "wincri --help exits 1 after its usage:\n%s", help)
	have := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9_-]*)`).FindAllStringSubmatch(string(help), -1) {
		have[m[1]] = true
	}
	require.True(t, have["register-service"], "wincri --help lists no --register-service:\n%s", help)
	assert.Contains(t, string(help), "wincri shim-version", "Install-Wincri.ps1 checks the shim with wincri shim-version")

	want := map[string][]string{
		"Install-Wincri.ps1":   {"register-service", "unregister-service", "service-name", "config", "root", "state", "log-file", "listen"},
		"Uninstall-Wincri.ps1": {"unregister-service", "service-name"},
	}
	flagRE := regexp.MustCompile(`--([a-z][a-z0-9-]*)`)
	for _, name := range scripts {
		src, err := os.ReadFile(filepath.Join(repoRoot(t), "release", "windows", name))
		require.NoError(t, err)
		used := map[string]bool{}
		for _, line := range strings.Split(string(src), "\n") {
			if !strings.Contains(line, "--register-service") && !strings.Contains(line, "--unregister-service") {
				continue
			}
			for _, m := range flagRE.FindAllStringSubmatch(line, -1) {
				used[m[1]] = true
				assert.True(t, have[m[1]], "%s passes --%s, which wincri does not have:\n%s", name, m[1], line)
			}
		}
		for _, f := range want[name] {
			assert.True(t, used[f], "%s passes no --%s to wincri", name, f)
		}
	}
}
