package sandbox

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHasELFInterpreterMatchesDebugElf reads real executables, with
// debug/elf as the reference: the test binary and the shell.
func TestHasELFInterpreterMatchesDebugElf(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	paths := []string{self}
	if sh, err := exec.LookPath("sh"); err == nil {
		paths = append(paths, sh)
	}
	for _, path := range paths {
		f, err := elf.Open(path)
		require.NoError(t, err)
		want := false
		for _, p := range f.Progs {
			want = want || p.Type == elf.PT_INTERP
		}
		f.Close()
		got, err := hasELFInterpreter(path)
		require.NoError(t, err, path)
		assert.Equal(t, want, got, path)
	}
}

// elfFile is a minimal ELF file of the given class and byte order whose
// program headers have the given types.
func elfFile(class elf.Class, bo binary.ByteOrder, types ...elf.ProgType) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4] = byte(class)
	b[5] = byte(elf.ELFDATA2LSB)
	if bo == binary.BigEndian {
		b[5] = byte(elf.ELFDATA2MSB)
	}
	phoff, entsize := 64, 56
	if class == elf.ELFCLASS32 {
		bo.PutUint32(b[28:], uint32(phoff))
		entsize = 32
		bo.PutUint16(b[42:], uint16(entsize))
		bo.PutUint16(b[44:], uint16(len(types)))
	} else {
		bo.PutUint64(b[32:], uint64(phoff))
		bo.PutUint16(b[54:], uint16(entsize))
		bo.PutUint16(b[56:], uint16(len(types)))
	}
	for _, typ := range types {
		ph := make([]byte, entsize)
		bo.PutUint32(ph, uint32(typ))
		b = append(b, ph...)
	}
	return b
}

func TestCheckStatic(t *testing.T) {
	tests := []struct {
		name    string
		file    []byte
		wantErr error
	}{
		{"static, 64-bit", elfFile(elf.ELFCLASS64, binary.LittleEndian, elf.PT_LOAD, elf.PT_NOTE), nil},
		{"dynamic, 64-bit", elfFile(elf.ELFCLASS64, binary.LittleEndian, elf.PT_PHDR, elf.PT_INTERP, elf.PT_LOAD), errdefs.ErrFailedPrecondition},
		{"dynamic, 32-bit big-endian", elfFile(elf.ELFCLASS32, binary.BigEndian, elf.PT_INTERP), errdefs.ErrFailedPrecondition},
		{"static, 32-bit", elfFile(elf.ELFCLASS32, binary.LittleEndian, elf.PT_LOAD), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wincri")
			require.NoError(t, os.WriteFile(path, tt.file, 0o755))
			err := checkStatic(path)
			if tt.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
	for name, file := range map[string][]byte{
		"not ELF":          []byte("#!/bin/sh\necho this is a script that is long enough to hold an ELF header's bytes\n"),
		"short":            []byte("\x7fELF"),
		"headers past end": elfFile(elf.ELFCLASS64, binary.LittleEndian, elf.PT_LOAD)[:70],
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wincri")
			require.NoError(t, os.WriteFile(path, file, 0o755))
			err := checkStatic(path)
			require.Error(t, err)
			assert.NotErrorIs(t, err, errdefs.ErrFailedPrecondition)
		})
	}
}
