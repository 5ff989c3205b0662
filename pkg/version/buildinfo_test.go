package version

import (
	"bytes"
	"debug/buildinfo"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadBuildInfoMatchesDebugBuildinfo reads the test binary itself,
// with debug/buildinfo as the reference.
func TestReadBuildInfoMatchesDebugBuildinfo(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	want, err := buildinfo.ReadFile(self)
	require.NoError(t, err)
	got, err := readBuildInfo(self)
	require.NoError(t, err)
	assert.Equal(t, want.String(), got.String())
}

// blob is a build information blob as cmd/link writes it.
func blob(vers, mod string) []byte {
	b := []byte(buildInfoMagic)
	b = append(b, 8, buildInfoFlagsInl)
	b = append(b, make([]byte, buildInfoHeaderSize-len(b))...)
	mod = "0123456789abcdef" + mod + "\n0123456789abcdef"
	for _, s := range []string{vers, mod} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func TestReadBuildInfo(t *testing.T) {
	const mod = "path\texample.com/cmd\nmod\texample.com\tv1.2.3\th1:x=\ndep\tgithub.com/Microsoft/hcsshim\tv0.15.0\th1:y="
	// at places b at an aligned offset of at least off.
	at := func(file []byte, off int, b []byte) []byte {
		for len(file) < off || len(file)%buildInfoAlign != 0 {
			file = append(file, 0)
		}
		return append(file, b...)
	}
	tests := []struct {
		name    string
		file    []byte
		want    string
		wantErr bool
	}{
		{name: "blob", file: at(nil, 64, blob("go1.26.8", mod)), want: "v0.15.0"},
		{
			name: "after stray magics, its strings across a search chunk boundary",
			file: at(at([]byte("x"+buildInfoMagic), 64, []byte(buildInfoMagic+"garbage")), buildInfoChunk-buildInfoHeaderSize, blob("go1.26.8", mod)),
			want: "v0.15.0",
		},
		{name: "pointer format of Go before 1.18", file: at(nil, 0, append([]byte(buildInfoMagic), 8, 0, 1, 2, 3)), wantErr: true},
		{name: "no blob", file: bytes.Repeat([]byte("MZ"), 1000), wantErr: true},
		{name: "empty", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shim.exe")
			require.NoError(t, os.WriteFile(path, tt.file, 0o644))
			info, err := readBuildInfo(path)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "go1.26.8", info.GoVersion)
			assert.Equal(t, "example.com/cmd", info.Path)
			assert.Equal(t, tt.want, DepVersion(info, hcsshimModule))
		})
	}
}
