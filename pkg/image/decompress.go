package image

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wincri/wincri/pkg/faultpoint"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress returns the tar stream inside a layer blob, recognising
// gzip and zstd by their magic bytes rather than trusting a media type.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("layer is not valid gzip: %v: %w", err, errdefs.ErrDataLoss)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("layer is not valid zstd: %v: %w", err, errdefs.ErrDataLoss)
		}
		return zr.IOReadCloser(), nil
	default:
		return io.NopCloser(br), nil
	}
}

// progressReader counts the bytes read for the pull's progress watchdog
// and stops a copy as soon as ctx ends, so that a cancelled pull does not
// finish a multi-gigabyte layer first.
type progressReader struct {
	ctx context.Context
	r   io.Reader
	n   *atomic.Int64
	// download marks the registry stream, where the mid-download fault
	// point fires; the unpack reads its verified copy.
	download bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, context.Cause(p.ctx)
	}
	n, err := p.r.Read(b)
	p.n.Add(int64(n))
	if p.download {
		faultpoint.Hit(p.ctx, faultpoint.PullMidDownload)
	}
	return n, err
}
