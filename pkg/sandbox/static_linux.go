package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/containerd/errdefs"
)

// checkStatic refuses a dynamically linked wincri as the pause binary:
// the pause rootfs holds no C library for it to load.
func checkStatic(path string) error {
	dynamic, err := hasELFInterpreter(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if dynamic {
		return fmt.Errorf("%s is dynamically linked and cannot serve as the pod's pause process: build wincri with CGO_ENABLED=0, or set [image] sandbox_image: %w", path, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// ELF identification and program header fields that hasELFInterpreter
// reads (elf(5)).
const (
	elfClass32, elfClass64   = 1, 2
	elfData2LSB, elfData2MSB = 1, 2
	elfPTInterp              = 3
)

// hasELFInterpreter tells whether the ELF executable at path names a
// program interpreter (PT_INTERP), the dynamic loader. It reads the
// program headers itself: debug/elf brought debug/dwarf and internal/zstd
// into the daemon, about 0.13 MB of code kept resident for this check.
func hasELFInterpreter(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var ident [64]byte
	if _, err := io.ReadFull(f, ident[:]); err != nil {
		return false, fmt.Errorf("not an ELF executable: %w", err)
	}
	if string(ident[:4]) != "\x7fELF" {
		return false, errors.New("not an ELF executable")
	}
	var bo binary.ByteOrder
	switch ident[5] {
	case elfData2LSB:
		bo = binary.LittleEndian
	case elfData2MSB:
		bo = binary.BigEndian
	default:
		return false, fmt.Errorf("unknown ELF data encoding %d", ident[5])
	}
	var phoff int64
	var phentsize, phnum int
	switch ident[4] {
	case elfClass64:
		phoff = int64(bo.Uint64(ident[32:]))
		phentsize, phnum = int(bo.Uint16(ident[54:])), int(bo.Uint16(ident[56:]))
	case elfClass32:
		phoff = int64(bo.Uint32(ident[28:]))
		phentsize, phnum = int(bo.Uint16(ident[42:])), int(bo.Uint16(ident[44:]))
	default:
		return false, fmt.Errorf("unknown ELF class %d", ident[4])
	}
	// 56 and 32 bytes in the two classes; the bound keeps a corrupt
	// header from asking for gigabytes.
	if phentsize < 4 || phentsize > 256 || phoff < 0 {
		return false, errors.New("malformed ELF program headers")
	}
	// p_type is each program header's first 4 bytes in both classes.
	headers := make([]byte, phentsize*phnum)
	if _, err := f.ReadAt(headers, phoff); err != nil {
		return false, fmt.Errorf("reading the ELF program headers: %w", err)
	}
	for i := 0; i < phnum; i++ {
		if bo.Uint32(headers[i*phentsize:]) == elfPTInterp {
			return true, nil
		}
	}
	return false, nil
}
