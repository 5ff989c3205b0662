// Package archive reads and writes image archives: OCI image layouts
// (oci-layout, index.json, blobs/<alg>/<hex>) as `ctr images export`,
// crane, skopeo and docker write them, and docker save tarballs
// (manifest.json with Config, RepoTags, Layers). It knows the formats
// only; pkg/image decides what to unpack and records it.
package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Names of the files of an archive, and of the index annotation that
// carries an image's full name.
const (
	LayoutFile         = ocispec.ImageLayoutFile
	IndexFile          = ocispec.ImageIndexFile
	DockerManifestFile = "manifest.json"
	// AnnotationImageName is containerd's full image name on an
	// index.json entry; org.opencontainers.image.ref.name often holds
	// only the tag.
	AnnotationImageName = "io.containerd.image.name"
)

// maxMetadata bounds the files Read holds in memory: oci-layout,
// index.json and manifest.json.
const maxMetadata = 16 << 20

// DockerImage is one entry of a docker save manifest.json.
type DockerImage struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// File is one regular file of an archive, spooled to disk and hashed.
type File struct {
	// Name is its path in the archive.
	Name string
	// Path is the spooled copy.
	Path   string
	Digest digest.Digest
	Size   int64
}

// Contents is what an archive holds: its metadata, parsed, and every
// other regular file spooled to disk with its digest. A file under
// blobs/<alg>/ is verified to hash to its name.
type Contents struct {
	Layout *ocispec.ImageLayout
	// Index is index.json; nil when absent.
	Index *ocispec.Index
	// Docker is manifest.json; nil when absent.
	Docker []DockerImage
	// Bytes is how much of the stream was read, compressed if it was.
	Bytes int64

	files    map[string]*File
	byDigest map[digest.Digest]*File
	// copyBuf moves spooled files in large writes: layers are GBs.
	copyBuf []byte
}

// Read reads an archive from r, once, to its end. It accepts a plain,
// gzip- or zstd-compressed tar. Every regular file other than the
// metadata is written to a file in spoolDir, which the caller removes.
// Blobs arrive before index.json in the archives containerd writes (it
// sorts entries by name), so nothing can be skipped or unpacked while
// reading: what is wanted is known only at the end.
//
// An archive cut inside an entry is refused as truncated; one cut between
// entries reads as complete (tar's end marker is optional), and what it
// lacks is then reported as missing.
//
// Errors: ErrInvalidArgument for what is not an archive of images (not a
// tar, truncated, no index.json and no manifest.json, an entry path that
// leaves the archive, a blob not named by a digest); ErrDataLoss for a
// blob that does not hash to its name; and the errors of r.
func Read(ctx context.Context, r io.Reader, spoolDir string) (*Contents, error) {
	counted := &countingReader{r: r}
	stream, err := decompress(counted)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	c := &Contents{files: map[string]*File{}, byDigest: map[digest.Digest]*File{}, copyBuf: make([]byte, 1<<20)}
	links := map[string]string{}
	tr := tar.NewReader(stream)
	entries := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, formatError(err, entries)
		}
		entries++
		name, ok := cleanName(hdr.Name)
		if !ok {
			return nil, fmt.Errorf("archive entry %q leaves the archive: %w", hdr.Name, errdefs.ErrInvalidArgument)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			if err := c.entry(name, tr, spoolDir); err != nil {
				return nil, formatError(err, entries)
			}
		case tar.TypeSymlink:
			// docker save links a layer.tar that two images share.
			links[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			links[name] = path.Clean(hdr.Linkname)
		}
	}
	if entries == 0 {
		return nil, fmt.Errorf("the archive is empty: %w", errdefs.ErrInvalidArgument)
	}
	c.resolveLinks(links)
	c.Bytes = counted.n
	if c.Layout != nil && c.Layout.Version != ocispec.ImageLayoutVersion {
		return nil, fmt.Errorf("%s: image layout version %q, only %q is supported: %w", LayoutFile, c.Layout.Version, ocispec.ImageLayoutVersion, errdefs.ErrInvalidArgument)
	}
	if c.Index == nil && c.Docker == nil {
		return nil, fmt.Errorf("the archive has neither an OCI %s nor a docker %s: %w", IndexFile, DockerManifestFile, errdefs.ErrInvalidArgument)
	}
	return c, nil
}

// entry takes one regular file: metadata into memory, anything else to
// the spool.
func (c *Contents) entry(name string, r io.Reader, spoolDir string) error {
	var v any
	switch name {
	case LayoutFile:
		c.Layout = &ocispec.ImageLayout{}
		v = c.Layout
	case IndexFile:
		c.Index = &ocispec.Index{}
		v = c.Index
	case DockerManifestFile:
		v = &c.Docker
	default:
		return c.spool(name, r, spoolDir)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxMetadata+1))
	if err != nil {
		return err
	}
	if len(data) > maxMetadata {
		return fmt.Errorf("%s is larger than %d bytes: %w", name, maxMetadata, errdefs.ErrInvalidArgument)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %v: %w", name, err, errdefs.ErrInvalidArgument)
	}
	if name == DockerManifestFile && c.Docker == nil {
		c.Docker = []DockerImage{}
	}
	return nil
}

// spool writes a file to disk, hashing it with the algorithm its name
// gives (blobs/sha512/...) or sha256.
func (c *Contents) spool(name string, r io.Reader, dir string) error {
	want, err := blobDigest(name)
	if err != nil {
		return err
	}
	alg := digest.Canonical
	if want != "" {
		alg = want.Algorithm()
	}
	f, err := os.CreateTemp(dir, "entry-")
	if err != nil {
		return err
	}
	h := alg.Hash()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), r, c.copyBuf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	got := digest.NewDigest(alg, h)
	if err == nil && want != "" && got != want {
		err = fmt.Errorf("blob %s in the archive hashes to %s: %w", want, got, errdefs.ErrDataLoss)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if old := c.files[name]; old != nil {
		// A later entry of the same name replaces the earlier, as tar
		// extraction would.
		_ = os.Remove(old.Path)
		if c.byDigest[old.Digest] == old {
			delete(c.byDigest, old.Digest)
		}
	}
	file := &File{Name: name, Path: f.Name(), Digest: got, Size: n}
	c.files[name] = file
	if c.byDigest[got] == nil {
		c.byDigest[got] = file
	}
	return nil
}

// blobDigest is the digest a blobs/<alg>/<encoded> name promises; "" for
// a name outside blobs/.
func blobDigest(name string) (digest.Digest, error) {
	rest, ok := strings.CutPrefix(name, "blobs/")
	if !ok {
		return "", nil
	}
	alg, enc, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(enc, "/") {
		return "", nil
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(alg), enc)
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("archive entry %q is under blobs/ but not named by a digest: %v: %w", name, err, errdefs.ErrInvalidArgument)
	}
	return d, nil
}

func (c *Contents) resolveLinks(links map[string]string) {
	for name, target := range links {
		for range 8 {
			next, ok := links[target]
			if !ok {
				break
			}
			target = next
		}
		if f := c.files[target]; f != nil {
			c.files[name] = f
		}
	}
}

// File returns the file at name (a path in the archive, links followed).
func (c *Contents) File(name string) (*File, bool) {
	clean, ok := cleanName(name)
	if !ok {
		return nil, false
	}
	f := c.files[clean]
	return f, f != nil
}

// Blob returns the file holding blob d: the one named by d under blobs/,
// else any file that hashes to d (docker save names layers by path).
func (c *Contents) Blob(d digest.Digest) (*File, bool) {
	if f := c.files[BlobName(d)]; f != nil {
		return f, true
	}
	f := c.byDigest[d]
	return f, f != nil
}

// ReadFile returns the content of a small file, refusing one larger than
// limit bytes.
func ReadFile(f *File, limit int64) ([]byte, error) {
	if f.Size > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d expected: %w", f.Name, f.Size, limit, errdefs.ErrInvalidArgument)
	}
	return os.ReadFile(f.Path)
}

// BlobName is the path of blob d in an OCI image layout.
func BlobName(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// cleanName makes an entry path relative to the archive's root, or
// reports that it leaves it.
func cleanName(name string) (string, bool) {
	clean := path.Clean("/" + name)[1:]
	if clean == "" {
		return ".", true
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", false
		}
	}
	return clean, true
}

// formatError classifies what the tar reader or a decompressor says as
// the archive's fault. Errors of the underlying stream stay as they are.
func formatError(err error, entries int) error {
	var streamErr *readError
	switch {
	case errors.As(err, &streamErr):
		return streamErr.err
	case entries == 0 && (errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)):
		return fmt.Errorf("not a tar archive: %w", errdefs.ErrInvalidArgument)
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong), errors.Is(err, tar.ErrInsecurePath):
		return fmt.Errorf("malformed tar archive: %v: %w", err, errdefs.ErrInvalidArgument)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the archive is truncated: %w", errdefs.ErrInvalidArgument)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, zstd.ErrMagicMismatch), errors.Is(err, zstd.ErrCRCMismatch):
		return fmt.Errorf("the compressed archive is corrupt: %v: %w", err, errdefs.ErrDataLoss)
	}
	return err
}

// readError marks an error of the underlying stream (a broken
// connection, a cancelled call), which is not the archive's fault.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// countingReader counts the bytes read and marks the stream's errors.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress recognises a compressed archive by its magic bytes, as
// `ctr images import` accepts `docker save | gzip`.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, formatError(err, 0)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("the archive is not valid gzip: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("the archive is not valid zstd: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}
