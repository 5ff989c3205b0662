package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"
)

// epoch is the time stamp of every entry and image: fixed, so that the same
// inputs always give the same digests and a rerun pushes nothing new.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// entry is one file system object of a layer.
type entry struct {
	name     string // relative, no leading slash
	typ      byte   // tar.TypeDir, TypeReg, TypeLink, TypeSymlink
	mode     int64
	uid, gid int
	data     []byte
	target   string // link target of TypeLink (relative) and TypeSymlink
}

// tree collects entries and writes them as one uncompressed tar stream. Parent
// directories are added on demand so that a layer never holds a file whose
// directory is missing.
type tree struct {
	entries []entry
	seen    map[string]bool
	index   map[string]int // name -> position in entries
}

func newTree() *tree { return &tree{seen: map[string]bool{}, index: map[string]int{}} }

func clean(name string) string { return strings.TrimPrefix(path.Clean("/"+name), "/") }

func (t *tree) add(e entry) error {
	e.name = clean(e.name)
	if e.name == "" {
		return fmt.Errorf("empty path in layer")
	}
	if t.seen[e.name] {
		return fmt.Errorf("duplicate path %q in layer", e.name)
	}
	if dir := path.Dir(e.name); dir != "." && !t.seen[dir] {
		if err := t.add(entry{name: dir, typ: tar.TypeDir, mode: 0o755}); err != nil {
			return err
		}
	}
	t.seen[e.name] = true
	t.index[e.name] = len(t.entries)
	t.entries = append(t.entries, e)
	return nil
}

// dir adds a directory; an existing one keeps its first mode.
func (t *tree) dir(name string, mode int64) error {
	if t.seen[clean(name)] {
		return nil
	}
	return t.add(entry{name: name, typ: tar.TypeDir, mode: mode})
}

// ownedDir adds a directory that belongs to uid:gid, as a home directory
// made by adduser does.
func (t *tree) ownedDir(name string, mode int64, uid, gid int) error {
	return t.add(entry{name: name, typ: tar.TypeDir, mode: mode, uid: uid, gid: gid})
}

func (t *tree) file(name string, mode int64, data []byte) error {
	return t.add(entry{name: name, typ: tar.TypeReg, mode: mode, data: data})
}

// hardlink adds name as a hard link to target, which must already be in the
// tree: a tar hard link may only point backwards. The link's header repeats
// the target's mode and owner because unpackers (containerd's among them)
// apply a hard link header's mode to the shared inode: mode 0 would make
// busybox unexecutable.
func (t *tree) hardlink(name, target string) error {
	target = clean(target)
	i, ok := t.index[target]
	if !ok {
		return fmt.Errorf("hard link %q: target %q is not in the layer yet", name, target)
	}
	to := t.entries[i]
	if to.typ != tar.TypeReg {
		return fmt.Errorf("hard link %q: target %q is not a regular file", name, target)
	}
	return t.add(entry{name: name, typ: tar.TypeLink, target: target, mode: to.mode, uid: to.uid, gid: to.gid})
}

// tar renders the tree in insertion order.
func (t *tree) tar() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range t.entries {
		hdr := &tar.Header{
			Typeflag: e.typ,
			Name:     e.name,
			Mode:     e.mode,
			Uid:      e.uid,
			Gid:      e.gid,
			ModTime:  epoch,
			Format:   tar.FormatPAX,
		}
		switch e.typ {
		case tar.TypeDir:
			hdr.Name += "/"
		case tar.TypeReg:
			hdr.Size = int64(len(e.data))
		case tar.TypeLink, tar.TypeSymlink:
			hdr.Linkname = e.target
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.name, err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				return nil, fmt.Errorf("tar data %s: %w", e.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing tar: %w", err)
	}
	return buf.Bytes(), nil
}
