//go:build !windows

package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// Overlay's names for what OCI layers express as whiteout files.
const (
	whiteoutPrefix  = ".wh."
	opaqueWhiteout  = ".wh..wh..opq"
	overlayOpaque   = "trusted.overlay.opaque"
	paxXattrPrefix  = "SCHILY.xattr."
	overlayXattrPfx = "trusted.overlay."
)

// unpackLayer extracts one OCI layer tar into dir as an overlayfs lower
// directory: a whiteout file becomes a 0/0 character device and an
// opaque marker sets trusted.overlay.opaque on its directory. Every path
// is resolved through os.Root, so no entry, symlink or hard link can
// reach outside dir. Linux layers do not depend on their parents on
// disk, so parents is unused. Needs root (mknod, chown, trusted xattrs).
func unpackLayer(ctx context.Context, dir string, _ []string, r io.Reader) (layerUsage, error) {
	var usage layerUsage
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usage, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return usage, err
	}
	defer root.Close()
	u := &overlayUnpacker{root: root}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return usage, context.Cause(ctx)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return usage, fmt.Errorf("reading layer archive: %v: %w", err, errdefs.ErrDataLoss)
		}
		if err := u.entry(hdr, tr); err != nil {
			return usage, fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
	// Directory times last: creating their children changed them.
	for i := len(u.dirTimes) - 1; i >= 0; i-- {
		dt := u.dirTimes[i]
		_ = root.Chtimes(dt.name, dt.mtime, dt.mtime)
	}
	return u.usage, nil
}

type dirTime struct {
	name  string
	mtime time.Time
}

type overlayUnpacker struct {
	root     *os.Root
	usage    layerUsage
	dirTimes []dirTime
}

// entryName makes a tar name relative to the layer root; os.Root still
// refuses anything that escapes, this only gives clearer errors.
func entryName(name string) (string, error) {
	clean := path.Clean("/" + name)[1:]
	if clean == "" {
		return ".", nil
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("path leaves the layer: %w", errdefs.ErrInvalidArgument)
		}
	}
	return clean, nil
}

func (u *overlayUnpacker) entry(hdr *tar.Header, content io.Reader) error {
	name, err := entryName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		return nil
	}
	parent, base := path.Dir(name), path.Base(name)
	if err := u.root.MkdirAll(parent, 0o755); err != nil {
		return wrapFS(err)
	}
	if base == opaqueWhiteout {
		return u.withDir(parent, func(fd int) error {
			return unix.Fsetxattr(fd, overlayOpaque, []byte("y"), 0)
		})
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		target := path.Join(parent, strings.TrimPrefix(base, whiteoutPrefix))
		if err := u.removeExisting(target, false); err != nil {
			return err
		}
		u.usage.Inodes++
		return u.withDir(parent, func(fd int) error {
			return mknodAt(fd, path.Base(target), unix.S_IFCHR, 0, 0)
		})
	}
	if err := u.removeExisting(name, hdr.Typeflag == tar.TypeDir); err != nil {
		return err
	}
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := u.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return wrapFS(err)
		}
	case tar.TypeReg:
		// No case for the deprecated TypeRegA ('\x00'): tar.Reader.Next
		// already turns it into TypeReg, or TypeDir for a name ending in
		// "/" (archive/tar/reader.go), so entry never sees it.
		f, err := u.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return wrapFS(err)
		}
		n, err := io.Copy(f, content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		u.usage.Bytes += n
	case tar.TypeSymlink:
		if err := u.root.Symlink(hdr.Linkname, name); err != nil {
			return wrapFS(err)
		}
	case tar.TypeLink:
		target, err := entryName(hdr.Linkname)
		if err != nil {
			return err
		}
		// A hard link gets the metadata of the file it links to.
		u.usage.Inodes++
		return wrapFS(u.root.Link(target, name))
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		if err := u.withDir(parent, func(fd int) error { return mknodAt(fd, base, kind|0o600, hdr.Devmajor, hdr.Devminor) }); err != nil {
			return err
		}
	default:
		// Global PAX headers and vendor types carry no file.
		return nil
	}
	u.usage.Inodes++
	return u.metadata(name, hdr, mode)
}

// metadata applies owner, xattrs, mode and times; owner first, because a
// chown clears the setuid and setgid bits.
func (u *overlayUnpacker) metadata(name string, hdr *tar.Header, mode fs.FileMode) error {
	if err := u.root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return wrapFS(err)
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	if err := u.xattrs(name, hdr); err != nil {
		return err
	}
	if err := u.root.Chmod(name, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return wrapFS(err)
	}
	if hdr.Typeflag == tar.TypeDir {
		u.dirTimes = append(u.dirTimes, dirTime{name, hdr.ModTime})
		return nil
	}
	return wrapFS(u.root.Chtimes(name, hdr.AccessTime, hdr.ModTime))
}

func (u *overlayUnpacker) xattrs(name string, hdr *tar.Header) error {
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, paxXattrPrefix)
		// Overlay's own attributes in a layer would forge whiteouts or
		// redirects: only this unpacker may set them.
		if !ok || strings.HasPrefix(attr, overlayXattrPfx) {
			continue
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
			continue
		}
		err := u.withFile(name, func(fd int) error { return unix.Fsetxattr(fd, attr, []byte(value), 0) })
		if err != nil {
			return fmt.Errorf("setting xattr %s: %w", attr, err)
		}
	}
	return nil
}

// removeExisting clears name for a new entry. A directory stays when the
// new entry is a directory too: tar streams list a directory's metadata
// again after files of lower layers created it.
func (u *overlayUnpacker) removeExisting(name string, keepDir bool) error {
	fi, err := u.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return wrapFS(err)
	}
	if keepDir && fi.IsDir() {
		return nil
	}
	return wrapFS(u.root.RemoveAll(name))
}

func (u *overlayUnpacker) withDir(name string, fn func(fd int) error) error {
	return u.withFile(name, fn)
}

func (u *overlayUnpacker) withFile(name string, fn func(fd int) error) error {
	f, err := u.root.Open(name)
	if err != nil {
		return wrapFS(err)
	}
	defer f.Close()
	return fn(int(f.Fd()))
}

// wrapFS marks an os.Root escape as the layer's fault, so that a hostile
// layer is InvalidArgument and not an internal error. The os package does
// not export its "path escapes from parent" sentinel, hence the match on
// its text; a miss only degrades the error code, never the protection.
func wrapFS(err error) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument)
	}
	return err
}

// removeLayerDir deletes an unpacked layer.
func removeLayerDir(_ context.Context, dir string) error {
	return os.RemoveAll(dir)
}

// unpackNeedsParents is false: an overlay lower directory stands alone,
// so layers unpack in parallel.
const unpackNeedsParents = false
