package crilog

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzCopy checks Copy's invariants on any input: the records give back
// the input with each "\r\n" line end as "\n", no content holds a
// newline or exceeds maxLine, and only the last record may be a short
// partial one.
func FuzzCopy(f *testing.F) {
	for _, seed := range []string{"", "a\n", "a\r\nb", "\r\r\n\n", strings.Repeat("x", 40) + "\n", "é\r"} {
		f.Add([]byte(seed), uint8(4), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, max uint8, oneByte bool) {
		maxLine := int(max%64) + 1
		r := bytes.NewReader(in)
		var got recorder
		var err error
		if oneByte {
			err = Copy(&got, Stdout, iotest.OneByteReader(r), maxLine)
		} else {
			err = Copy(&got, Stdout, r, maxLine)
		}
		if err != nil {
			t.Fatal(err)
		}
		var back []byte
		for i, rec := range got.records {
			if bytes.IndexByte(rec.Content, '\n') >= 0 {
				t.Fatalf("record %d holds a newline: %q", i, rec.Content)
			}
			if len(rec.Content) > maxLine {
				t.Fatalf("record %d is %d bytes, over %d", i, len(rec.Content), maxLine)
			}
			if rec.Partial && i < len(got.records)-1 && len(rec.Content) != maxLine {
				t.Fatalf("partial record %d of %d bytes is not the last", i, len(rec.Content))
			}
			back = append(back, rec.Content...)
			if !rec.Partial {
				back = append(back, '\n')
			}
		}
		want := bytes.ReplaceAll(in, []byte("\r\n"), []byte("\n"))
		if !bytes.Equal(back, want) {
			t.Fatalf("records give back %q, want %q", back, want)
		}
	})
}

// FuzzParseLine checks that ParseLine never panics and that whatever it
// accepts formats back to a line it parses the same.
func FuzzParseLine(f *testing.F) {
	for _, seed := range []string{
		"2026-11-29T03:04:05.1Z stdout F a b\n",
		"2026-11-29T03:04:05+02:00 stderr P:x y",
		"x y z", "", "   ",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseLine(line)
		if err != nil {
			return
		}
		again, err := ParseLine(AppendRecord(nil, rec))
		if err != nil {
			t.Fatalf("formatted record does not parse: %v", err)
		}
		if !again.Time.Equal(rec.Time) || again.Stream != rec.Stream || again.Partial != rec.Partial ||
			!bytes.Equal(bytes.TrimSuffix(again.Content, []byte("\n")), bytes.TrimSuffix(rec.Content, []byte("\n"))) {
			t.Fatalf("round trip changed %+v to %+v", rec, again)
		}
	})
}
