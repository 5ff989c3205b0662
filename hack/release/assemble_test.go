package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		version string
		ok      bool
	}{
		{"v1.2.3", true},
		{"v0.1.0-rc.1+build.5", true},
		{"71723d3-dirty", true},
		{"", false},
		{"-v1", false},
		{"v1/../x", false},
		{"v1 2", false},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			if tt.ok {
				assert.NoError(t, checkVersion(tt.version))
			} else {
				assert.Error(t, checkVersion(tt.version))
			}
		})
	}
}

func TestFill(t *testing.T) {
	values := map[string]string{"VERSION": "v1.0.0", "HCSSHIM_VERSION": "v0.15.0"}
	tests := []struct {
		name, src, want, wantErr string
	}{
		{name: "filled", src: "wincri @VERSION@ with hcsshim @HCSSHIM_VERSION@\n", want: "wincri v1.0.0 with hcsshim v0.15.0\n"},
		{name: "PowerShell's own @ signs stay", src: "$a = @'\nx\n'@\nfoo @args @{a=1} me@example.com\n", want: "$a = @'\nx\n'@\nfoo @args @{a=1} me@example.com\n"},
		{name: "unknown placeholder", src: "@VERSION@ @HCSHIM_VERSION@\n", wantErr: "unknown placeholders @HCSHIM_VERSION@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Install-Wincri.ps1")
			require.NoError(t, os.WriteFile(path, []byte(tt.src), 0o644))
			f, err := fill(path, values)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Install-Wincri.ps1", f.name)
			assert.Equal(t, tt.want, string(f.data))
		})
	}
}

func TestSums(t *testing.T) {
	got := sums([]file{{name: "b", data: []byte("b")}, {name: "a", data: []byte("")}})
	assert.Equal(t, sumsName, got.name)
	// sha256sum's output for the same files.
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n"+
		"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b\n", string(got.data))
}

func TestPackIsDeterministic(t *testing.T) {
	mtime := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	files := []file{{name: "z.exe", data: []byte("MZ"), exec: true}, {name: "a.txt", data: []byte("a")}}
	var first, second bytes.Buffer
	require.NoError(t, pack(&first, "top", files, mtime))
	require.NoError(t, pack(&second, "top", []file{files[1], files[0]}, mtime))
	assert.Equal(t, first.Bytes(), second.Bytes(), "the same files make the same bytes, whatever their order")

	zr, err := zip.NewReader(bytes.NewReader(first.Bytes()), int64(first.Len()))
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		assert.True(t, f.Modified.Equal(mtime), "%s: %s", f.Name, f.Modified)
	}
	assert.Equal(t, []string{"top/", "top/a.txt", "top/z.exe"}, names)
	assert.True(t, zr.File[0].FileInfo().IsDir())
	assert.Equal(t, os.FileMode(0o644), zr.File[1].Mode().Perm())
	assert.Equal(t, os.FileMode(0o755), zr.File[2].Mode().Perm())
}
