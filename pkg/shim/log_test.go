package shim

import (
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShimLogLevel(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{line: `time="2026-11-29T03:00:00Z" level=error msg="failed to delete"`, want: "error"},
		{line: `time="2026-11-29T03:00:00Z" level=warning msg="cleanup"`, want: "warning"},
		{line: `level=info msg="starting signal loop" namespace=wincri`, want: "info"},
		{line: `level="debug" msg=x`, want: "debug"},
		{line: `level=FATAL`, want: "fatal"},
		{line: `plain text without fields`, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, shimLogLevel(tt.line))
		})
	}
}

func TestCopyShimLog(t *testing.T) {
	long := strings.Repeat("x", maxShimLogLine+10)
	in := strings.Join([]string{
		`level=error msg="always shown"`,
		`level=info msg="needs -v=2"`,
		`level=error msg="cgroups: epoll wait" error=shutdown runtime=io.containerd.runc.v2`,
		``,
		long,
		`level=warning msg="last line without newline"`,
	}, "\n")
	tests := []struct {
		name      string
		verbosity int
		want      []string
	}{
		{
			name:      "default verbosity",
			verbosity: 0,
			want:      []string{`"error"=null "line"="level=error msg=\"always shown\""`, "last line without newline"},
		},
		{
			name:      "verbose",
			verbosity: 2,
			want: []string{"always shown", "needs -v=2", "epoll wait", strings.Repeat("x", maxShimLogLine) + `"`,
				`"line"="xxxxxxxxxx"`, "last line without newline"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			logger := funcr.New(func(_, args string) { got = append(got, args) }, funcr.Options{Verbosity: tt.verbosity})
			copyShimLog(logger, strings.NewReader(in))
			require.Len(t, got, len(tt.want), "blank lines are dropped, long lines split: %q", got)
			for i, want := range tt.want {
				assert.Contains(t, got[i], want)
			}
		})
	}
}

// TestCopyShimLogLongLines: lines longer than the starting buffer stay
// whole up to maxShimLogLine.
func TestCopyShimLogLongLines(t *testing.T) {
	mid := strings.Repeat("y", 3*shimLogBuffer)
	var got []string
	logger := funcr.New(func(_, args string) { got = append(got, args) }, funcr.Options{Verbosity: 2})
	copyShimLog(logger, strings.NewReader("level=warning msg="+mid+"\r\nlevel=warning msg=next\n"))
	require.Len(t, got, 2)
	assert.Contains(t, got[0], "msg="+mid+`"`)
	assert.Contains(t, got[1], "msg=next")
}
