package crilog

import (
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendRecord(t *testing.T) {
	ts := time.Date(2026, 11, 29, 3, 4, 5, 123456789, time.UTC)
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"full stdout", Record{Time: ts, Stream: Stdout, Content: []byte("hello")}, "2026-11-29T03:04:05.123456789Z stdout F hello\n"},
		{"partial stderr", Record{Time: ts, Stream: Stderr, Partial: true, Content: []byte("par")}, "2026-11-29T03:04:05.123456789Z stderr P par\n"},
		{"empty line", Record{Time: ts, Stream: Stdout}, "2026-11-29T03:04:05.123456789Z stdout F \n"},
		{"trailing zeros trimmed", Record{Time: ts.Truncate(time.Second), Stream: Stdout, Content: []byte("x")}, "2026-11-29T03:04:05Z stdout F x\n"},
		{"zone offset kept", Record{Time: ts.In(time.FixedZone("", -8*3600)), Stream: Stdout, Content: []byte("x")}, "2026-11-28T19:04:05.123456789-08:00 stdout F x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendRecord(nil, tt.rec))
			assert.Equal(t, tt.want, got)

			back, err := ParseLine([]byte(got))
			require.NoError(t, err)
			assert.True(t, tt.rec.Time.Equal(back.Time))
			assert.Equal(t, tt.rec.Stream, back.Stream)
			assert.Equal(t, tt.rec.Partial, back.Partial)
			assert.Equal(t, string(tt.rec.Content), string(back.Content))
		})
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name        string
		line        string
		wantStream  Stream
		wantPartial bool
		wantContent string
		wantErr     bool
	}{
		{name: "full", line: "2026-11-29T03:04:05.1Z stdout F a b  c\n", wantStream: Stdout, wantContent: "a b  c"},
		{name: "no newline", line: "2026-11-29T03:04:05.1Z stderr P x", wantStream: Stderr, wantPartial: true, wantContent: "x"},
		{name: "tag extension", line: "2026-11-29T03:04:05.1Z stdout F:more x\n", wantStream: Stdout, wantContent: "x"},
		{name: "carriage return is content", line: "2026-11-29T03:04:05.1Z stdout F a\r\n", wantStream: Stdout, wantContent: "a\r"},
		{name: "empty content", line: "2026-11-29T03:04:05.1Z stdout F \n", wantStream: Stdout, wantContent: ""},
		{name: "empty", line: "", wantErr: true},
		{name: "three fields", line: "2026-11-29T03:04:05.1Z stdout F", wantErr: true},
		{name: "bad time", line: "yesterday stdout F x", wantErr: true},
		{name: "bad stream", line: "2026-11-29T03:04:05.1Z stdin F x", wantErr: true},
		{name: "bad tag", line: "2026-11-29T03:04:05.1Z stdout X x", wantErr: true},
		{name: "long garbage", line: strings.Repeat("z", 1<<16), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := ParseLine([]byte(tt.line))
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				assert.Less(t, len(err.Error()), 300, "error messages stay short")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantStream, rec.Stream)
			assert.Equal(t, tt.wantPartial, rec.Partial)
			assert.Equal(t, tt.wantContent, string(rec.Content))
		})
	}
}

func TestReadRecordsAndAssemble(t *testing.T) {
	log := "2026-11-29T03:04:05.1Z stdout P hel\n" +
		"2026-11-29T03:04:05.2Z stderr F oops\n" +
		"2026-11-29T03:04:05.3Z stdout F lo\n" +
		"2026-11-29T03:04:05.4Z stderr P tail"
	records, err := ReadRecords(strings.NewReader(log))
	require.NoError(t, err)
	require.Len(t, records, 4)

	msgs := Assemble(records)
	require.Len(t, msgs, 3)
	assert.Equal(t, Message{Time: records[1].Time, Stream: Stderr, Text: "oops", Complete: true}, msgs[0])
	assert.Equal(t, Message{Time: records[0].Time, Stream: Stdout, Text: "hello", Complete: true}, msgs[1])
	assert.Equal(t, Message{Time: records[3].Time, Stream: Stderr, Text: "tail", Complete: false}, msgs[2])

	_, err = ReadRecords(strings.NewReader("garbage\n"))
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
}
