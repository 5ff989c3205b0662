package crilog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/containerd/errdefs"
)

// Stream names a container output stream as the CRI log format spells it.
type Stream string

// The two streams a CRI log carries.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Tags of a CRI log record (k8s.io/cri-api LogTagPartial / LogTagFull).
const (
	TagPartial = "P"
	TagFull    = "F"
)

// TimestampFormat is the layout of a record's timestamp; kubelet parses
// it with the same layout.
const TimestampFormat = time.RFC3339Nano

// DefaultMaxLineSize bounds a record's content when nothing else is
// configured; it matches containerd's max_container_log_line_size.
const DefaultMaxLineSize = 16 * 1024

// Record is one line of a CRI log.
type Record struct {
	Time   time.Time
	Stream Stream
	// Partial is true when the container's line continues in the next
	// record of the same stream.
	Partial bool
	// Content is the text without the record's terminating newline.
	Content []byte
}

// AppendRecord appends r in the CRI log format, newline included, to dst.
func AppendRecord(dst []byte, r Record) []byte {
	dst = r.Time.AppendFormat(dst, TimestampFormat)
	dst = append(dst, ' ')
	dst = append(dst, r.Stream...)
	dst = append(dst, ' ')
	if r.Partial {
		dst = append(dst, TagPartial...)
	} else {
		dst = append(dst, TagFull...)
	}
	dst = append(dst, ' ')
	dst = append(dst, r.Content...)
	return append(dst, '\n')
}

// ParseLine parses one CRI log line, with or without its trailing
// newline. Like kubelet it accepts tags with ':'-separated extensions
// ("F:x") and looks only at the first. Malformed input is
// errdefs.ErrInvalidArgument. Content aliases line.
func ParseLine(line []byte) (Record, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	fields := make([][]byte, 0, 3)
	rest := line
	for range 3 {
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			return Record{}, fmt.Errorf("CRI log line %q has fewer than 4 fields: %w", truncate(line), errdefs.ErrInvalidArgument)
		}
		fields = append(fields, rest[:i])
		rest = rest[i+1:]
	}
	ts, err := time.Parse(TimestampFormat, string(fields[0]))
	if err != nil {
		return Record{}, fmt.Errorf("CRI log line %q: timestamp: %v: %w", truncate(line), err, errdefs.ErrInvalidArgument)
	}
	stream := Stream(fields[1])
	if stream != Stdout && stream != Stderr {
		return Record{}, fmt.Errorf("CRI log line %q: unknown stream %q: %w", truncate(line), stream, errdefs.ErrInvalidArgument)
	}
	tag, _, _ := bytes.Cut(fields[2], []byte{':'})
	var partial bool
	switch string(tag) {
	case TagPartial:
		partial = true
	case TagFull:
	default:
		return Record{}, fmt.Errorf("CRI log line %q: unknown tag %q: %w", truncate(line), tag, errdefs.ErrInvalidArgument)
	}
	return Record{Time: ts, Stream: stream, Partial: partial, Content: rest}, nil
}

// ReadRecords parses a whole CRI log. A last line without newline (a
// record being written) is parsed too.
func ReadRecords(r io.Reader) ([]Record, error) {
	var records []Record
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			rec, perr := ParseLine(line)
			if perr != nil {
				return records, perr
			}
			records = append(records, rec)
		}
		if errors.Is(err, io.EOF) {
			return records, nil
		}
		if err != nil {
			return records, err
		}
	}
}

// Message is a container's output line put back together from its
// partial records.
type Message struct {
	// Time is the time of the first record of the line.
	Time   time.Time
	Stream Stream
	Text   string
	// Complete is false for output the log holds no end of: the last
	// line of a stream that ended without newline, or one still being
	// written.
	Complete bool
}

// Assemble joins partial records into the lines the container wrote,
// per stream, in the order the lines were completed; lines still open at
// the end of the records come last, stdout before stderr.
func Assemble(records []Record) []Message {
	var (
		out     []Message
		pending = map[Stream]*Message{}
	)
	for _, r := range records {
		m := pending[r.Stream]
		if m == nil {
			m = &Message{Time: r.Time, Stream: r.Stream}
			pending[r.Stream] = m
		}
		m.Text += string(r.Content)
		if !r.Partial {
			m.Complete = true
			out = append(out, *m)
			delete(pending, r.Stream)
		}
	}
	for _, s := range []Stream{Stdout, Stderr} {
		if m := pending[s]; m != nil {
			out = append(out, *m)
		}
	}
	return out
}

// truncate keeps error messages about hostile input short.
func truncate(b []byte) []byte {
	const max = 80
	if len(b) > max {
		return b[:max]
	}
	return b
}
