package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTree(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   func(t *tree) error
		want    []tar.Header // Typeflag, Name, Mode, Uid, Linkname
		wantErr string
	}{
		{
			name: "parents are added before their files",
			build: func(t *tree) error {
				return t.file("usr/local/bin/x", 0o755, []byte("x"))
			},
			want: []tar.Header{
				{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755},
				{Typeflag: tar.TypeDir, Name: "usr/local/", Mode: 0o755},
				{Typeflag: tar.TypeDir, Name: "usr/local/bin/", Mode: 0o755},
				{Typeflag: tar.TypeReg, Name: "usr/local/bin/x", Mode: 0o755},
			},
		},
		{
			name: "a hard link repeats its target's mode and owner",
			build: func(t *tree) error {
				return firstErr(
					t.add(entry{name: "bin/busybox", typ: tar.TypeReg, mode: 0o4755, uid: 7}),
					t.hardlink("/bin/sh", "/bin/busybox"),
				)
			},
			want: []tar.Header{
				{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755},
				{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o4755, Uid: 7},
				{Typeflag: tar.TypeLink, Name: "bin/sh", Mode: 0o4755, Uid: 7, Linkname: "bin/busybox"},
			},
		},
		{
			name:    "a hard link may only point backwards",
			build:   func(t *tree) error { return t.hardlink("bin/sh", "bin/busybox") },
			wantErr: "not in the layer yet",
		},
		{
			name: "a hard link to a directory is refused",
			build: func(t *tree) error {
				return firstErr(t.dir("etc", 0o755), t.hardlink("x", "etc"))
			},
			wantErr: "not a regular file",
		},
		{
			name:    "duplicates are refused",
			build:   func(t *tree) error { return firstErr(t.file("a", 0o644, nil), t.file("/a", 0o644, nil)) },
			wantErr: "duplicate path",
		},
		{
			name:    "the root itself is refused",
			build:   func(t *tree) error { return t.file("/", 0o644, nil) },
			wantErr: "empty path",
		},
		{
			name:  "dot-dot cannot leave the root",
			build: func(t *tree) error { return t.file("../../etc/x", 0o600, []byte("x")) },
			want: []tar.Header{
				{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
				{Typeflag: tar.TypeReg, Name: "etc/x", Mode: 0o600},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree()
			err := tc.build(tr)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			raw, err := tr.tar()
			require.NoError(t, err)
			assert.Equal(t, tc.want, headers(t, raw))
		})
	}
}

func headers(t *testing.T, raw []byte) []tar.Header {
	t.Helper()
	var out []tar.Header
	r := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		assert.Equal(t, epoch, hdr.ModTime.UTC(), hdr.Name)
		out = append(out, tar.Header{Typeflag: hdr.Typeflag, Name: hdr.Name, Mode: hdr.Mode, Uid: hdr.Uid, Linkname: hdr.Linkname})
	}
}
