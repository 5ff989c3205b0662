package main

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// writeZip writes dir/folder.zip, every file under folder/, and returns
// its path. The zip replaces an older one only once it is complete.
func writeZip(dir, folder string, files []file, mtime time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, folder+".zip")
	tmp, err := os.CreateTemp(dir, ".release-*.zip")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := pack(tmp, folder, files, mtime); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// pack writes the zip: the folder, then its files sorted by name, all
// with the modification time mtime, so that the same files make the
// same bytes.
func pack(w io.Writer, folder string, files []file, mtime time.Time) error {
	sorted := append([]file(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	zw := zip.NewWriter(w)
	dir := &zip.FileHeader{Name: folder + "/", Modified: mtime}
	dir.SetMode(fs.ModeDir | 0o755)
	if _, err := zw.CreateHeader(dir); err != nil {
		return err
	}
	for _, f := range sorted {
		h := &zip.FileHeader{Name: folder + "/" + f.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(0o644)
		if f.exec {
			h.SetMode(0o755)
		}
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
