package streaming_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// A minimal SPDY client of the streaming protocol, as kubectl (through
// kubelet) speaks it: remotecommand v4 for exec and attach, portforward
// v1 for port-forward.

func dialSPDY(t *testing.T, rawURL, protocol string) httpstream.Connection {
	t.Helper()
	rt, err := spdy.NewRoundTripper(nil)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, rawURL, nil)
	require.NoError(t, err)
	req.Header.Set(httpstream.HeaderProtocolVersion, protocol)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	conn, err := rt.NewConnection(resp)
	require.NoError(t, err, "upgrading %s", rawURL)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// session is one exec or attach session's streams; nil when not asked.
type session struct {
	conn                                     httpstream.Connection
	errStream, stdin, stdout, stderr, resize httpstream.Stream
}

func openSession(t *testing.T, rawURL string, stdin, stdout, stderr, tty bool) *session {
	t.Helper()
	s := &session{conn: dialSPDY(t, rawURL, remotecommand.StreamProtocolV4Name)}
	open := func(kind string) httpstream.Stream {
		h := http.Header{}
		h.Set(remotecommand.StreamType, kind)
		st, err := s.conn.CreateStream(h)
		require.NoError(t, err, "creating the %s stream", kind)
		return st
	}
	// The error stream first: the server reports the outcome on it.
	s.errStream = open(remotecommand.StreamTypeError)
	if stdin {
		s.stdin = open(remotecommand.StreamTypeStdin)
	}
	if stdout {
		s.stdout = open(remotecommand.StreamTypeStdout)
	}
	if stderr {
		s.stderr = open(remotecommand.StreamTypeStderr)
	}
	if tty {
		s.resize = open(remotecommand.StreamTypeResize)
	}
	return s
}

func (s *session) sendResize(t *testing.T, width, height uint16) {
	t.Helper()
	require.NoError(t, json.NewEncoder(s.resize).Encode(remotecommand.TerminalSize{Width: width, Height: height}))
}

// status is the v4 outcome the server writes to the error stream.
type status struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
	Details struct {
		Causes []struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"causes"`
	} `json:"details"`
}

// wait reads the session's outcome: the exit code, and the message of
// a failure that is not a non-zero exit.
func (s *session) wait(t *testing.T) (int, string) {
	t.Helper()
	b, err := io.ReadAll(s.errStream)
	require.NoError(t, err)
	var st status
	require.NoError(t, json.Unmarshal(b, &st), "status %q", b)
	if st.Status == "Success" {
		return 0, ""
	}
	for _, c := range st.Details.Causes {
		if c.Reason == "ExitCode" {
			code, err := strconv.Atoi(c.Message)
			require.NoError(t, err)
			return code, ""
		}
	}
	return -1, st.Message
}

// forward opens a port-forward data stream to port.
func forward(t *testing.T, rawURL string, port int) (httpstream.Stream, httpstream.Stream) {
	t.Helper()
	conn := dialSPDY(t, rawURL, portforward.ProtocolV1Name)
	h := http.Header{}
	h.Set(portforward.PortHeader, strconv.Itoa(port))
	h.Set(portforward.PortForwardRequestIDHeader, "0")
	h.Set(portforward.StreamType, portforward.StreamTypeError)
	errStream, err := conn.CreateStream(h)
	require.NoError(t, err)
	require.NoError(t, errStream.Close(), "the client sends nothing on the error stream")
	h.Set(portforward.StreamType, portforward.StreamTypeData)
	data, err := conn.CreateStream(h)
	require.NoError(t, err)
	return data, errStream
}
