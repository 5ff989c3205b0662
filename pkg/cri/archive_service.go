package cri

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/wincri/wincri/pkg/image"
)

// The Archive service imports and exports image archives through the
// daemon, as `ctr images import` goes through containerd, so that an
// imported image is in the store the CRI image service answers from at
// once. It sits beside the CRI services on the same listener, behind the
// same interceptors, and is defined without generated code: a
// hand-written service description over protobuf well-known types.
//
//	Import (client stream): BytesValue chunks of the archive
//	        -> StringValue, JSON [{"id": ..., "names": [...]}]
//	Export (server stream): StringValue, JSON ["ref", ...]
//	        -> BytesValue chunks of an OCI image layout archive
const (
	archiveServiceName = "wincri.images.v1.Archive"
	importMethod       = "/" + archiveServiceName + "/Import"
	exportMethod       = "/" + archiveServiceName + "/Export"
	// chunkSize is the payload of one archive message, well below the
	// 16 MiB both ends accept.
	chunkSize = 1 << 20
)

// ArchiveService is the image store as the Archive RPCs need it.
// *image.Service implements it; errors are errdefs sentinels.
type ArchiveService interface {
	// Import reads an archive from r to its end and returns the images
	// it recorded: ErrInvalidArgument for a malformed archive,
	// ErrDataLoss for content that fails verification, the platform
	// errors of a pull.
	Import(ctx context.Context, r io.Reader, opts image.ImportOptions) ([]image.Imported, error)
	// Export writes the images refs name to w as an OCI image layout
	// archive: ErrNotFound, before anything is written, for an image
	// that is not present.
	Export(ctx context.Context, refs []string, w io.Writer) error
}

var _ ArchiveService = (*image.Service)(nil)

// archiveHandler is the service's handler type, for gRPC's check.
type archiveHandler interface {
	importArchive(stream grpc.ServerStream) error
	exportArchive(stream grpc.ServerStream) error
}

var _ archiveHandler = (*Server)(nil)

var archiveServiceDesc = grpc.ServiceDesc{
	ServiceName: archiveServiceName,
	HandlerType: (*archiveHandler)(nil),
	Streams: []grpc.StreamDesc{
		{
			StreamName:    "Import",
			ClientStreams: true,
			Handler:       func(srv any, stream grpc.ServerStream) error { return srv.(archiveHandler).importArchive(stream) },
		},
		{
			StreamName:    "Export",
			ServerStreams: true,
			Handler:       func(srv any, stream grpc.ServerStream) error { return srv.(archiveHandler).exportArchive(stream) },
		},
	},
	Metadata: "wincri/images/v1/archive (hand-written, no .proto)",
}

// importArchive imports the streamed archive, choosing the variants of
// multi-platform images for the default runtime handler, as a pull
// without a handler does.
func (s *Server) importArchive(stream grpc.ServerStream) error {
	if s.archive == nil {
		return errNoArchive
	}
	ctx := stream.Context()
	t, handlers, err := s.imageTarget(ctx, "")
	if err != nil {
		return err
	}
	imgs, err := s.archive.Import(ctx, &chunkReader{stream: stream}, image.ImportOptions{Target: t, Handlers: handlers})
	if err != nil {
		return err
	}
	if imgs == nil {
		imgs = []image.Imported{}
	}
	out, err := json.Marshal(imgs)
	if err != nil {
		return fmt.Errorf("encoding the imported images: %w", err)
	}
	return stream.SendMsg(wrapperspb.String(string(out)))
}

// exportArchive streams the archive of the images the request names.
func (s *Server) exportArchive(stream grpc.ServerStream) error {
	if s.archive == nil {
		return errNoArchive
	}
	var req wrapperspb.StringValue
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	var refs []string
	if err := json.Unmarshal([]byte(req.GetValue()), &refs); err != nil {
		return invalid("the request is not a JSON list of image references: %v", err)
	}
	if len(refs) == 0 {
		return invalid("no image to export")
	}
	for i, ref := range refs {
		if _, err := checkImageRef(fmt.Sprintf("images[%d]", i), ref); err != nil {
			return err
		}
	}
	w := &chunkWriter{stream: stream}
	if err := s.archive.Export(stream.Context(), refs, w); err != nil {
		return err
	}
	return w.flush()
}

// chunkReader reads the archive an Import call streams.
type chunkReader struct {
	stream grpc.ServerStream
	buf    []byte
	err    error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		var m wrapperspb.BytesValue
		if err := r.stream.RecvMsg(&m); err == io.EOF {
			r.err = io.EOF
		} else if err != nil {
			// The client went away or the transport broke: its status,
			// not the archive's fault.
			r.err = fmt.Errorf("receiving the archive: %w", err)
		}
		r.buf = m.GetValue()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// chunkWriter sends what an Export writes in messages of chunkSize.
// Each message gets a buffer of its own: gRPC may use a message after
// SendMsg returns.
type chunkWriter struct {
	stream grpc.ServerStream
	buf    []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, chunkSize)
		}
		n := min(len(p), chunkSize-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(w.buf) == chunkSize {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	m := &wrapperspb.BytesValue{Value: w.buf}
	w.buf = nil
	if err := w.stream.SendMsg(m); err != nil {
		return fmt.Errorf("sending the archive: %w", err)
	}
	return nil
}

// errNoArchive answers the Archive RPCs of a server built without an
// ArchiveService.
var errNoArchive = fmt.Errorf("image import and export are not available: %w", errdefs.ErrNotImplemented)
