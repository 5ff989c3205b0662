package image

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// contentStore keeps blobs (manifests, configs, and layer archives until
// they are unpacked) under root/blobs/<algorithm>/<hex>. A blob is written
// to root/ingest first and renamed into place only after its digest and
// size are verified, so a blob file is always complete and correct; a
// crash leaves at most a stray ingest file, which open removes.
type contentStore struct {
	root string
}

func openContentStore(root string) (*contentStore, error) {
	c := &contentStore{root: root}
	// Partial downloads from before a crash are never resumed: they
	// cannot be trusted without re-hashing and are cheap to fetch again.
	if err := os.RemoveAll(c.ingestDir()); err != nil {
		return nil, fmt.Errorf("cleaning partial downloads: %w", err)
	}
	for _, dir := range []string{c.ingestDir(), filepath.Join(root, "blobs")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *contentStore) ingestDir() string { return filepath.Join(c.root, "ingest") }

func (c *contentStore) path(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("invalid digest %q: %w", d, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(c.root, "blobs", d.Algorithm().String(), d.Encoded()), nil
}

// Has reports whether a verified blob is present.
func (c *contentStore) Has(d digest.Digest) bool {
	p, err := c.path(d)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// Open returns the blob; a missing one is ErrNotFound.
func (c *contentStore) Open(d digest.Digest) (*os.File, error) {
	p, err := c.path(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
	}
	return f, err
}

// ReadAll returns a small blob's bytes.
func (c *contentStore) ReadAll(d digest.Digest) ([]byte, error) {
	f, err := c.Open(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Delete removes a blob; a missing one is no error.
func (c *contentStore) Delete(d digest.Digest) error {
	p, err := c.path(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Write copies r into the store as blob d of the given size (-1 when
// unknown) and returns the bytes written. Data that does not hash to d is
// discarded with an error wrapping ErrDataLoss (a corrupt or lying
// registry) and never becomes visible.
func (c *contentStore) Write(d digest.Digest, size int64, r io.Reader) (int64, error) {
	dst, err := c.path(d)
	if err != nil {
		return 0, err
	}
	if c.Has(d) {
		return 0, nil
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := filepath.Join(c.ingestDir(), d.Encoded()+"-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	verifier := d.Algorithm().Hash()
	n, err := io.Copy(io.MultiWriter(f, verifier), r)
	if err != nil {
		return n, err
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("blob %s: got %d bytes, want %d: %w", d, n, size, errdefs.ErrDataLoss)
	}
	if got := digest.NewDigest(d.Algorithm(), verifier); got != d {
		return n, fmt.Errorf("blob %s: content hashes to %s: %w", d, got, errdefs.ErrDataLoss)
	}
	if err := commit(f, dst, os.Rename); err != nil {
		return n, err
	}
	committed = true
	return n, nil
}

// commit makes the verified file f blob dst, durably: its data reaches
// the disk before its name does, so a crash never leaves a blob file
// that is short. place gives it the name (rename or link). f is closed.
func commit(f *os.File, dst string, place func(from, to string) error) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return place(f.Name(), dst)
}

// Adopt makes the file at path, which the caller has verified to hash to
// d, blob d without copying it: a hard link, so that the file stays
// where it is for another layer that has the same blob. path must be on
// the store's file system (an import spools under ingestDir). Where the
// file system has no hard links, the file is copied and verified again.
func (c *contentStore) Adopt(d digest.Digest, path string) error {
	dst, err := c.path(d)
	if err != nil {
		return err
	}
	if c.Has(d) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = commit(f, dst, os.Link)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return nil
	}
	src, oerr := os.Open(path)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	defer src.Close()
	_, err = c.Write(d, -1, src)
	return err
}

// List returns the digests of every stored blob.
func (c *contentStore) List() ([]digest.Digest, error) {
	var out []digest.Digest
	algs, err := os.ReadDir(filepath.Join(c.root, "blobs"))
	if err != nil {
		return nil, err
	}
	for _, alg := range algs {
		blobs, err := os.ReadDir(filepath.Join(c.root, "blobs", alg.Name()))
		if err != nil {
			return nil, err
		}
		for _, b := range blobs {
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg.Name()), b.Name())
			if d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}
