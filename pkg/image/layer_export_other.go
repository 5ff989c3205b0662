//go:build !windows

package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// exportLayer writes the overlay lower directory dir as an OCI layer tar,
// the inverse of unpackLayer: a 0/0 character device becomes a whiteout
// file, trusted.overlay.opaque an opaque marker, files that share an
// inode a hard link, and owners, modes, times and xattrs are kept.
// Entries come in lexical order and carry no host user names, so that a
// layer gives the same tar each time. parents is unused: an overlay
// lower directory stands alone.
func exportLayer(ctx context.Context, dir string, _ []string, w io.Writer) error {
	x := &layerExporter{tw: tar.NewWriter(w), links: map[fileID]string{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return x.entry(p, filepath.ToSlash(rel), fi)
	})
	if err != nil {
		return fmt.Errorf("exporting layer %s: %w", dir, err)
	}
	return x.tw.Close()
}

const selinuxXattr = "security.selinux"

type fileID struct{ dev, ino uint64 }

type layerExporter struct {
	tw *tar.Writer
	// links are the first names of files with several links.
	links map[fileID]string
}

func (x *layerExporter) entry(p, name string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no file status", p)
	}
	mode := fi.Mode()
	hdr := &tar.Header{
		Name:    name,
		Mode:    tarMode(mode),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: fi.ModTime(),
	}
	switch {
	case mode&fs.ModeCharDevice != 0 && st.Rdev == 0:
		// An overlay whiteout.
		hdr.Name = path.Join(path.Dir(name), whiteoutPrefix+path.Base(name))
		hdr.Typeflag, hdr.Mode = tar.TypeReg, 0
		return x.tw.WriteHeader(hdr)
	case mode.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
	case mode.IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		if st.Nlink > 1 {
			id := fileID{uint64(st.Dev), uint64(st.Ino)}
			if first, ok := x.links[id]; ok {
				hdr.Typeflag, hdr.Size, hdr.Linkname = tar.TypeLink, 0, first
				return x.tw.WriteHeader(hdr)
			}
			x.links[id] = name
		}
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case mode&fs.ModeDevice != 0:
		hdr.Typeflag = tar.TypeBlock
		if mode&fs.ModeCharDevice != 0 {
			hdr.Typeflag = tar.TypeChar
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
	case mode&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	default:
		// Sockets have no place in a layer.
		return nil
	}
	opaque := false
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeDir {
		attrs, err := listXattrs(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for k, v := range attrs {
			if k == overlayOpaque {
				opaque = v == "y"
			}
			// Overlay's own attributes are what whiteouts became; the
			// SELinux label is the host's, not the image's.
			if strings.HasPrefix(k, overlayXattrPfx) || k == selinuxXattr {
				continue
			}
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords[paxXattrPrefix+k] = v
		}
	}
	if err := x.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if opaque {
		return x.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name + "/" + opaqueWhiteout, ModTime: fi.ModTime()})
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(x.tw, f)
	if err == nil && n != hdr.Size {
		err = fmt.Errorf("%s changed size while exported", p)
	}
	return err
}

// tarMode is the permission and special bits of a tar header.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
