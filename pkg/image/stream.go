package image

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
)

// streamLayer downloads, decompresses and unpacks a layer in one pass,
// as it arrives: the compressed blob is never written nor read again.
// The source's reader checks the blob's digest and size at its end,
// which the unpack reads to, after the diff id; a layer that fails
// either is discarded like any failed unpack, so nothing unverified is
// ever recorded.
func (s *Service) streamLayer(ctx context.Context, job layerJob, src blobStreamer, p *transferProgress) (layerUsage, error) {
	rc, err := func() (io.ReadCloser, error) {
		defer p.phase(false)()
		return src.openBlob(ctx, job.blob)
	}()
	if err != nil {
		return layerUsage{}, err
	}
	defer rc.Close()
	defer p.phase(true)()
	v := &countingReader{
		r: &progressReader{ctx: ctx, r: &progressReader{ctx: ctx, r: rc, n: &p.downloaded, download: true}, n: &p.unpacked},
		p: p,
	}
	usage, err := s.unpackFrom(ctx, job, v, func(rest io.Reader) error {
		_, err := io.Copy(io.Discard, rest)
		return err
	})
	if err == nil || ctx.Err() != nil || v.readErr == nil {
		return usage, err
	}
	if job.blob.Size >= 0 && v.n >= job.blob.Size {
		// All of the blob arrived and its reader still failed: the
		// content is not what its digest or size says.
		return layerUsage{}, fmt.Errorf("layer blob %s from the registry fails verification: %v: %w", job.blob.Digest, v.readErr, errdefs.ErrDataLoss)
	}
	// The registry's stream broke off: say so, not what the unpack made
	// of the short stream.
	return layerUsage{}, registryError(endpoint{host: "layer download"}, v.readErr)
}

// countingReader counts what is read through it and keeps the first
// read error that is not the end of the stream. While it waits for the
// registry, p shows the layer downloading rather than unpacking, so that
// a stall is blamed on the right one.
type countingReader struct {
	r       io.Reader
	n       int64
	readErr error
	p       *transferProgress
}

func (v *countingReader) Read(b []byte) (int, error) {
	v.p.downloading.Add(1)
	v.p.unpacking.Add(-1)
	n, err := v.r.Read(b)
	v.p.unpacking.Add(1)
	v.p.downloading.Add(-1)
	v.n += int64(n)
	if err != nil && err != io.EOF && v.readErr == nil {
		v.readErr = err
	}
	return n, err
}
