package isolation

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// maxSymlinks bounds symlink resolution inside a rootfs, as the kernel
// does (ELOOP after 40).
const maxSymlinks = 40

// resolveInRoot resolves the container path p inside the host directory
// root as the container would see it: every symlink, absolute or
// relative, is interpreted relative to root, and ".." stops at root. The
// result is a host path that never leaves root, whatever the image holds.
// Components that do not exist are kept as they are.
func resolveInRoot(root, p string) (string, error) {
	root = filepath.Clean(root)
	var resolved string // container path resolved so far, "" = root
	rest := strings.Split(path.Clean("/"+p), "/")
	links := 0
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir("/" + resolved)
			if resolved == "/" {
				resolved = ""
			}
			continue
		}
		next := resolved + "/" + part
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(next)))
		if errors.Is(err, fs.ErrNotExist) {
			resolved = next
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", fmt.Errorf("resolving %q in the container root: too many symbolic links: %w", p, errdefs.ErrInvalidArgument)
		}
		target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(next)))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			resolved = ""
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return filepath.Join(root, filepath.FromSlash(resolved)), nil
}

// readRootfsFile reads a file of the container image, such as
// /etc/passwd, without following any link out of the rootfs. A missing
// file gives fs.ErrNotExist.
func readRootfsFile(root, p string) ([]byte, error) {
	host, err := resolveInRoot(root, p)
	if err != nil {
		return nil, err
	}
	// The last component was resolved above, but it could be swapped for
	// a symlink before the open: check that what was opened is what was
	// looked at.
	before, err := os.Lstat(host)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s in the container image is not a regular file: %w", p, errdefs.ErrInvalidArgument)
	}
	f, err := os.Open(host)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(before, opened) {
		return nil, fmt.Errorf("%s in the container image changed while being read: %w", p, errdefs.ErrUnavailable)
	}
	const maxDBSize = 16 << 20 // a passwd or group file beyond this is not one
	data, err := io.ReadAll(io.LimitReader(f, maxDBSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxDBSize {
		return nil, fmt.Errorf("%s in the container image is larger than %d bytes: %w", p, maxDBSize, errdefs.ErrInvalidArgument)
	}
	return data, nil
}
