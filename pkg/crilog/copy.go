package crilog

import (
	"bufio"
	"errors"
	"io"
)

// readBufferSize is the read buffer of Copy; a pipe hands out at most
// 64 KiB at once, half of that keeps syscalls few without holding much.
const readBufferSize = 32 * 1024

// RecordWriter takes whole records of one stream. File implements it.
type RecordWriter interface {
	WriteRecord(stream Stream, partial bool, content []byte) error
}

// Copy reads a container's output stream until EOF or a read error and
// writes it to w as CRI records. A line longer than maxLine bytes (0 or
// less: DefaultMaxLineSize) is split into partial records of maxLine
// bytes. The "\n" or "\r\n" that ends a line is not content, as in
// containerd; a lone "\r" is. What is left when the stream ends without
// a newline is written as a partial record.
//
// Copy returns nil at EOF and the read error otherwise, after writing
// what it had. Errors of w do not stop it: a container must never block
// on its output because the log's disk is full, so w reports its own
// failures.
func Copy(w RecordWriter, stream Stream, r io.Reader, maxLine int) error {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineSize
	}
	br := bufio.NewReaderSize(r, min(maxLine, readBufferSize))
	line := make([]byte, 0, maxLine+readBufferSize)

	// writeOverflow emits the line's first maxLine bytes as partial
	// records while more than maxLine bytes are buffered; the rest waits
	// for its newline.
	writeOverflow := func() {
		for len(line) > maxLine {
			_ = w.WriteRecord(stream, true, line[:maxLine])
			n := copy(line, line[maxLine:])
			line = line[:n]
		}
	}

	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			// Keep a trailing "\r" for the next read: it may be the
			// first half of a "\r\n" the buffer boundary split.
			if n := len(chunk); n > 1 && chunk[n-1] == '\r' {
				_ = br.UnreadByte()
				chunk = chunk[:n-1]
			}
			line = append(line, chunk...)
			writeOverflow()
		case err == nil:
			chunk = chunk[:len(chunk)-1]
			if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
				chunk = chunk[:n-1]
			}
			line = append(line, chunk...)
			writeOverflow()
			_ = w.WriteRecord(stream, false, line)
			line = line[:0]
		default:
			line = append(line, chunk...)
			writeOverflow()
			if len(line) > 0 {
				_ = w.WriteRecord(stream, true, line)
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
