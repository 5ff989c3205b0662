package version

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// readBuildInfo reads the Go build information of the executable at
// path, as debug/buildinfo.ReadFile does for executables of Go 1.18 and
// later. It finds the information's blob by its magic rather than
// through the executable's sections: debug/buildinfo brings the ELF,
// PE, Mach-O, XCOFF and DWARF readers into wincri, about 0.4 MB of code
// that the daemon kept resident for this one subcommand.
func readBuildInfo(path string) (*debug.BuildInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vers, mod, err := findBuildInfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info, err := debug.ParseBuildInfo(mod)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info.GoVersion = vers
	return info, nil
}

var errNoBuildInfo = errors.New("not a Go executable of Go 1.18 or later: no build information")

// The build information blob (cmd/link, debug/buildinfo): 16-byte
// aligned in its section, hence in the file; a 32-byte header, the magic
// then a flags byte at 15 whose bit 1 says the Go version and the
// module information follow as varint-prefixed strings.
const (
	buildInfoMagic      = "\xff Go buildinf:"
	buildInfoAlign      = 16
	buildInfoHeaderSize = 32
	buildInfoFlagsInl   = 0x2
	// buildInfoChunk is how much of the file is searched at a time; a
	// multiple of buildInfoAlign, so that no aligned magic straddles two.
	buildInfoChunk = 1 << 20
	// maxBuildInfo bounds the strings read after a header.
	maxBuildInfo = 1 << 20
)

// findBuildInfo returns the Go version and the module information of
// the first aligned blob whose contents decode. A magic elsewhere in
// the file (a program that holds the string as data) does not.
func findBuildInfo(r io.ReaderAt) (vers, mod string, err error) {
	buf := make([]byte, buildInfoChunk)
	for off := int64(0); ; off += buildInfoChunk {
		n, err := r.ReadAt(buf, off)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return "", "", errNoBuildInfo
			}
			return "", "", err
		}
		data := buf[:n]
		for i := 0; ; {
			j := bytes.Index(data[i:], []byte(buildInfoMagic))
			if j < 0 {
				break
			}
			i += j
			if i%buildInfoAlign == 0 {
				if vers, mod, ok := decodeBuildInfo(r, off+int64(i)); ok {
					return vers, mod, nil
				}
			}
			i++
		}
		if n < len(buf) {
			return "", "", errNoBuildInfo
		}
	}
}

// decodeBuildInfo decodes the blob at off: false for a blob of another
// format, or a stray magic.
func decodeBuildInfo(r io.ReaderAt, off int64) (vers, mod string, ok bool) {
	var header [buildInfoHeaderSize]byte
	if _, err := r.ReadAt(header[:], off); err != nil || header[15]&buildInfoFlagsInl == 0 {
		return "", "", false
	}
	br := bufio.NewReader(io.NewSectionReader(r, off+buildInfoHeaderSize, 2*maxBuildInfo))
	readString := func() (string, bool) {
		n, err := binary.ReadUvarint(br)
		if err != nil || n > maxBuildInfo {
			return "", false
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", false
		}
		return string(b), true
	}
	vers, ok1 := readString()
	mod, ok2 := readString()
	// The module information sits between two 16-byte sentinels
	// (cmd/go/internal/modload's infoStart and infoEnd).
	if !ok1 || !ok2 || vers == "" || len(mod) < 33 || mod[len(mod)-17] != '\n' {
		return "", "", false
	}
	return vers, mod[16 : len(mod)-16], true
}
