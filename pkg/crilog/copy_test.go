package crilog

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a RecordWriter that keeps what it is given.
type recorder struct {
	records []Record
	err     error
}

func (r *recorder) WriteRecord(stream Stream, partial bool, content []byte) error {
	r.records = append(r.records, Record{Stream: stream, Partial: partial, Content: []byte(string(content))})
	return r.err
}

// rec is a short way to write an expected record.
func rec(partial bool, content string) Record {
	return Record{Stream: Stdout, Partial: partial, Content: []byte(content)}
}

// chunkReader hands out its chunks one Read at a time, the way a pipe
// delivers what a process wrote in separate writes.
type chunkReader struct{ chunks []string }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if n < len(c.chunks[0]) {
		c.chunks[0] = c.chunks[0][n:]
	} else {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func TestCopy(t *testing.T) {
	long := strings.Repeat("a", 40)
	tests := []struct {
		name    string
		chunks  []string
		maxLine int
		want    []Record
	}{
		{name: "lines", chunks: []string{"one\ntwo\n"}, want: []Record{rec(false, "one"), rec(false, "two")}},
		{name: "empty lines", chunks: []string{"\n\n"}, want: []Record{rec(false, ""), rec(false, "")}},
		{name: "line over several writes", chunks: []string{"he", "ll", "o\n"}, want: []Record{rec(false, "hello")}},
		{name: "no newline at EOF is partial", chunks: []string{"a\nb"}, want: []Record{rec(false, "a"), rec(true, "b")}},
		{name: "nothing", chunks: nil, want: nil},
		{name: "CRLF ends a line", chunks: []string{"a\r\nb\r\n"}, want: []Record{rec(false, "a"), rec(false, "b")}},
		{name: "CRLF split across writes", chunks: []string{"a\r", "\nb\n"}, want: []Record{rec(false, "a"), rec(false, "b")}},
		{name: "lone CR is text", chunks: []string{"10%\r20%\r100%\n"}, want: []Record{rec(false, "10%\r20%\r100%")}},
		{name: "CR at EOF is text", chunks: []string{"a\r"}, want: []Record{rec(true, "a\r")}},
		{name: "double CR keeps one", chunks: []string{"a\r\r\n"}, want: []Record{rec(false, "a\r")}},
		{name: "exactly max is one record", chunks: []string{"abcd\n"}, maxLine: 4, want: []Record{rec(false, "abcd")}},
		{name: "max plus one splits", chunks: []string{"abcde\n"}, maxLine: 4, want: []Record{rec(true, "abcd"), rec(false, "e")}},
		{name: "long line splits in maxLine pieces", chunks: []string{long + "\n"}, maxLine: 16, want: []Record{
			rec(true, long[:16]), rec(true, long[16:32]), rec(false, long[32:]),
		}},
		{name: "long line without newline", chunks: []string{long}, maxLine: 16, want: []Record{
			rec(true, long[:16]), rec(true, long[16:32]), rec(true, long[32:]),
		}},
		{name: "CRLF not counted toward max", chunks: []string{"abcd\r\n"}, maxLine: 4, want: []Record{rec(false, "abcd")}},
		{name: "multibyte text is bytes", chunks: []string{"ééé\n"}, maxLine: 4, want: []Record{rec(true, "éé"), rec(false, "é")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got recorder
			err := Copy(&got, Stdout, &chunkReader{chunks: append([]string(nil), tt.chunks...)}, tt.maxLine)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.records)
		})
	}
}

// TestCopyBufferBoundary feeds lines longer than the read buffer one
// byte at a time, so every CRLF and split point meets a full buffer.
func TestCopyBufferBoundary(t *testing.T) {
	body := strings.Repeat("x", readBufferSize-1)
	in := body + "\r\n" + body + "yz\r\n"
	var got recorder
	require.NoError(t, Copy(&got, Stderr, iotest.OneByteReader(strings.NewReader(in)), readBufferSize))

	require.Len(t, got.records, 3)
	assert.Equal(t, Record{Stream: Stderr, Content: []byte(body)}, got.records[0])
	assert.Equal(t, Record{Stream: Stderr, Partial: true, Content: []byte(body + "y")}, got.records[1])
	assert.Equal(t, Record{Stream: Stderr, Content: []byte("z")}, got.records[2])
}

func TestCopyReadError(t *testing.T) {
	boom := errors.New("boom")
	var got recorder
	err := Copy(&got, Stdout, io.MultiReader(strings.NewReader("a\nrest"), iotest.ErrReader(boom)), 0)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []Record{rec(false, "a"), rec(true, "rest")}, got.records)
}

func TestCopyKeepsDrainingWhenWritesFail(t *testing.T) {
	got := recorder{err: errors.New("disk full")}
	require.NoError(t, Copy(&got, Stdout, strings.NewReader("a\nb\nc\n"), 0))
	assert.Len(t, got.records, 3)
}

func BenchmarkCopy(b *testing.B) {
	line := strings.Repeat("0123456789", 10) + "\n"
	in := strings.Repeat(line, 1000)
	b.SetBytes(int64(len(in)))
	w := discardRecords{}
	for b.Loop() {
		_ = Copy(w, Stdout, strings.NewReader(in), 0)
	}
}

type discardRecords struct{}

func (discardRecords) WriteRecord(Stream, bool, []byte) error { return nil }
