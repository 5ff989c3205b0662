package archive

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Writer writes an OCI image layout archive that `ctr images import`,
// `docker load` (through manifest.json), crane and wincri read. The
// metadata comes first, so that a reader that reads the archive once
// knows what it gets before the blobs arrive; containerd and docker read
// the entries in any order.
type Writer struct {
	tw    *tar.Writer
	dirs  map[string]bool
	blobs map[digest.Digest]bool
}

// NewWriter starts an archive on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{tw: tar.NewWriter(w), dirs: map[string]bool{}, blobs: map[digest.Digest]bool{}}
}

// modTime is every entry's: an archive of the same images is the same
// bytes.
var modTime = time.Unix(0, 0)

// WriteIndex writes oci-layout, index.json and, when docker is not
// empty, manifest.json.
func (w *Writer) WriteIndex(idx ocispec.Index, docker []DockerImage) error {
	if err := w.writeJSON(LayoutFile, ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}); err != nil {
		return err
	}
	if err := w.writeJSON(IndexFile, idx); err != nil {
		return err
	}
	if len(docker) == 0 {
		return nil
	}
	return w.writeJSON(DockerManifestFile, docker)
}

// WriteBlob writes blob d of size bytes from r, once: a blob already
// written is skipped and r not read.
func (w *Writer) WriteBlob(d digest.Digest, size int64, r io.Reader) error {
	if w.blobs[d] {
		return nil
	}
	name := BlobName(d)
	if err := w.mkdirs(path.Dir(name)); err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o444, Size: size, ModTime: modTime}); err != nil {
		return err
	}
	n, err := io.Copy(w.tw, r)
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", d, err)
	}
	if n != size {
		return fmt.Errorf("blob %s: wrote %d bytes, expected %d", d, n, size)
	}
	w.blobs[d] = true
	return nil
}

// Close writes the end of the archive; it does not close the writer
// underneath.
func (w *Writer) Close() error { return w.tw.Close() }

func (w *Writer) writeJSON(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o444, Size: int64(len(data)), ModTime: modTime}); err != nil {
		return err
	}
	_, err = w.tw.Write(data)
	return err
}

// mkdirs writes the directory entries of dir, parents first, once.
func (w *Writer) mkdirs(dir string) error {
	if dir == "." || w.dirs[dir] {
		return nil
	}
	if err := w.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	w.dirs[dir] = true
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: modTime})
}
