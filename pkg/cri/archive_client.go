package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/wincri/wincri/pkg/endpoint"
	"github.com/wincri/wincri/pkg/image"
)

// ArchiveClient is the command line's side of the Archive service. Its
// errors carry the daemon's message and code, not a gRPC status.
type ArchiveClient struct {
	conn *grpc.ClientConn
}

// dialProbeTimeout bounds the first connection to the daemon.
const dialProbeTimeout = 5 * time.Second

// DialArchive connects to the wincri daemon at e. gRPC connects lazily
// and would report a missing daemon as a vague Unavailable on the first
// call, so the endpoint is tried once first: a failure says that no
// daemon runs there.
func DialArchive(ctx context.Context, e endpoint.Endpoint) (*ArchiveClient, error) {
	probeCtx, cancel := context.WithTimeout(ctx, dialProbeTimeout)
	defer cancel()
	c, err := endpoint.Dial(probeCtx, e)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to wincri at %s: %v (is the daemon running there? --endpoint names another)", e, err)
	}
	_ = c.Close()
	conn, err := grpc.NewClient("passthrough:///wincri",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return endpoint.Dial(ctx, e) }),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)),
	)
	if err != nil {
		return nil, err
	}
	return &ArchiveClient{conn: conn}, nil
}

// NewArchiveClient uses an existing connection; Close closes it.
func NewArchiveClient(conn *grpc.ClientConn) *ArchiveClient { return &ArchiveClient{conn: conn} }

// Close closes the connection.
func (c *ArchiveClient) Close() error { return c.conn.Close() }

// Import streams the archive r to the daemon and returns the images it
// imported and the bytes read from r.
func (c *ArchiveClient) Import(ctx context.Context, r io.Reader) ([]image.Imported, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.conn.NewStream(ctx, &archiveServiceDesc.Streams[0], importMethod)
	if err != nil {
		return nil, 0, callError(err)
	}
	var sent int64
	for {
		// A buffer per message: gRPC may use a message after SendMsg.
		buf := make([]byte, chunkSize)
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if err := stream.SendMsg(&wrapperspb.BytesValue{Value: buf[:n]}); err == io.EOF {
				// The daemon ended the call early: RecvMsg has its answer.
				break
			} else if err != nil {
				return nil, sent, callError(err)
			}
			sent += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			// Cancelling tells the daemon the archive is incomplete.
			return nil, sent, fmt.Errorf("reading the archive: %w", rerr)
		}
	}
	if err := stream.CloseSend(); err != nil {
		return nil, sent, callError(err)
	}
	var reply wrapperspb.StringValue
	if err := stream.RecvMsg(&reply); err != nil {
		return nil, sent, callError(err)
	}
	var imgs []image.Imported
	if err := json.Unmarshal([]byte(reply.GetValue()), &imgs); err != nil {
		return nil, sent, fmt.Errorf("decoding the daemon's answer: %w", err)
	}
	return imgs, sent, nil
}

// Export writes the archive of the images refs name to w and returns
// the bytes written. A failure after some bytes leaves w incomplete.
func (c *ArchiveClient) Export(ctx context.Context, refs []string, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := json.Marshal(refs)
	if err != nil {
		return 0, err
	}
	stream, err := c.conn.NewStream(ctx, &archiveServiceDesc.Streams[1], exportMethod)
	if err != nil {
		return 0, callError(err)
	}
	if err := stream.SendMsg(wrapperspb.String(string(req))); err != nil && err != io.EOF {
		return 0, callError(err)
	}
	if err := stream.CloseSend(); err != nil {
		return 0, callError(err)
	}
	var written int64
	for {
		var m wrapperspb.BytesValue
		err := stream.RecvMsg(&m)
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, callError(err)
		}
		n, err := w.Write(m.GetValue())
		written += int64(n)
		if err != nil {
			return written, fmt.Errorf("writing the archive: %w", err)
		}
	}
}

// callError turns the daemon's status into "Code: message".
func callError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &RemoteError{Code: st.Code().String(), Message: st.Message()}
}

// RemoteError is an error the daemon answered with.
type RemoteError struct {
	// Code is the gRPC code's name: "InvalidArgument", "NotFound", ...
	Code    string
	Message string
}

func (e *RemoteError) Error() string { return e.Code + ": " + e.Message }

// IsRemoteCode reports whether err is the daemon's answer with code.
func IsRemoteCode(err error, code string) bool {
	var re *RemoteError
	return errors.As(err, &re) && re.Code == code
}
