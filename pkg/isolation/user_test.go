package isolation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1::/:/usr/sbin/nologin
default-user:x:1000:1000::/home/default-user:/bin/sh
www:x:33:33::/var/www:/bin/false
broken:x:notanumber:1::/:/bin/false
+nisuser
`

const testGroup = `root:x:0:
daemon:x:1:
default-user:x:1000:
www:x:33:default-user
group-defined-in-image:x:50000:default-user, www
staff:x:50:
`

// writeRootfs lays out a fake image rootfs with the given files.
func writeRootfs(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	return root
}

func TestResolveLinuxUser(t *testing.T) {
	root := writeRootfs(t, map[string]string{"etc/passwd": testPasswd, "etc/group": testGroup})
	bare := t.TempDir() // an image without /etc/passwd, like distroless/static
	i64 := func(v int64) *runtimeapi.Int64Value { return &runtimeapi.Int64Value{Value: v} }
	tests := []struct {
		name      string
		root      string
		sc        *runtimeapi.LinuxContainerSecurityContext
		imageUser string
		want      specs.User
		wantErr   error
	}{
		{name: "default is root", root: root, want: specs.User{AdditionalGids: []uint32{0}}},
		{name: "image uid with passwd group", root: root, imageUser: "1000", want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 50000}}},
		{name: "image name", root: root, imageUser: "www", want: specs.User{UID: 33, GID: 33, AdditionalGids: []uint32{33, 50000}}},
		{name: "image name:group", root: root, imageUser: "www:staff", want: specs.User{UID: 33, GID: 50, AdditionalGids: []uint32{50, 50000}}},
		{name: "image uid:gid", root: root, imageUser: "1234:5678", want: specs.User{UID: 1234, GID: 5678, AdditionalGids: []uint32{5678}}},
		{name: "image uid unknown to passwd", root: root, imageUser: "4242", want: specs.User{UID: 4242, AdditionalGids: []uint32{0}}},
		{name: "image name missing", root: root, imageUser: "nobody-here", wantErr: errdefs.ErrInvalidArgument},
		{name: "image group missing", root: root, imageUser: "www:nogroup", wantErr: errdefs.ErrInvalidArgument},
		{name: "no passwd, numeric works", root: bare, imageUser: "65532:65532", want: specs.User{UID: 65532, GID: 65532, AdditionalGids: []uint32{65532}}},
		{name: "no passwd, name fails", root: bare, imageUser: "nonroot", wantErr: errdefs.ErrInvalidArgument},
		{
			name: "run_as_user wins over image user", root: root, imageUser: "www",
			sc:   &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1000)},
			want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 50000}},
		},
		{
			name: "merge policy adds image groups and CRI groups", root: root,
			sc:   &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1000), SupplementalGroups: []int64{1234}},
			want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 50000, 1234}},
		},
		{
			name: "strict policy skips image groups", root: root,
			sc: &runtimeapi.LinuxContainerSecurityContext{
				RunAsUser: i64(1000), SupplementalGroups: []int64{1234},
				SupplementalGroupsPolicy: runtimeapi.SupplementalGroupsPolicy_Strict,
			},
			want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 1234}},
		},
		{
			name: "run_as_group replaces primary group", root: root,
			sc:   &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000)},
			want: specs.User{UID: 1000, GID: 3000, AdditionalGids: []uint32{3000, 33, 50000}},
		},
		{
			name: "run_as_username", root: root,
			sc:   &runtimeapi.LinuxContainerSecurityContext{RunAsUsername: "default-user"},
			want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 50000}},
		},
		{name: "run_as_username missing", root: root, sc: &runtimeapi.LinuxContainerSecurityContext{RunAsUsername: "ghost"}, wantErr: errdefs.ErrInvalidArgument},
		{name: "run_as_group without user", root: root, sc: &runtimeapi.LinuxContainerSecurityContext{RunAsGroup: i64(1)}, wantErr: errdefs.ErrInvalidArgument},
		{name: "user and username", root: root, sc: &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1), RunAsUsername: "www"}, wantErr: errdefs.ErrInvalidArgument},
		{name: "negative uid", root: root, sc: &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(-1)}, wantErr: errdefs.ErrInvalidArgument},
		{name: "uid too large", root: root, sc: &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(1 << 32)}, wantErr: errdefs.ErrInvalidArgument},
		{name: "negative supplemental group", root: root, sc: &runtimeapi.LinuxContainerSecurityContext{RunAsUser: i64(0), SupplementalGroups: []int64{-5}}, wantErr: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveLinuxUser(tt.root, tt.sc, tt.imageUser)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResolveInRootStaysInside(t *testing.T) {
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte("evil:x:0:0::/:/bin/sh\n"), 0o644))
	root := writeRootfs(t, map[string]string{"usr/lib/passwd": "real:x:7:7::/:/bin/sh\n"})
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))

	tests := []struct {
		name   string
		link   string // target of /etc/passwd
		want   string // resolved host path, relative to root
		reads  string // what readRootfsFile returns, "" = not found
		errNil bool
	}{
		{name: "absolute link is re-rooted", link: "/usr/lib/passwd", want: "usr/lib/passwd", reads: "real:x:7:7::/:/bin/sh\n"},
		{name: "relative link", link: "../usr/lib/passwd", want: "usr/lib/passwd", reads: "real:x:7:7::/:/bin/sh\n"},
		{name: "dot-dot cannot climb out", link: "../../../../../../" + filepath.Join(outside, "passwd"), want: filepath.Join(outside, "passwd")[1:]},
		{name: "absolute host path is re-rooted", link: filepath.Join(outside, "passwd"), want: filepath.Join(outside, "passwd")[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := filepath.Join(root, "etc", "passwd")
			_ = os.Remove(link)
			require.NoError(t, os.Symlink(tt.link, link))
			got, err := resolveInRoot(root, "/etc/passwd")
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(root, tt.want), got)
			data, err := readRootfsFile(root, "/etc/passwd")
			if tt.reads == "" {
				require.ErrorIs(t, err, os.ErrNotExist)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.reads, string(data))
		})
	}
}

func TestResolveInRootLoop(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Symlink("/b", filepath.Join(root, "a")))
	require.NoError(t, os.Symlink("/a", filepath.Join(root, "b")))
	_, err := resolveInRoot(root, "/a/x")
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
}

func TestReadRootfsFileRejectsNonRegular(t *testing.T) {
	root := writeRootfs(t, map[string]string{"etc/passwd/x": ""}) // a directory
	_, err := readRootfsFile(root, "/etc/passwd")
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	_, err = ResolveLinuxUser(root, nil, "")
	require.Error(t, err)
}

// FuzzResolveInRoot checks the one property that matters: whatever the
// symlinks in the image and the path asked for, the result stays inside
// the root.
func FuzzResolveInRoot(f *testing.F) {
	for _, seed := range [][2]string{
		{"/etc/passwd", "../../../../etc/shadow"},
		{"/a/../../b", "/"},
		{"x/y", "/.."},
		{"/etc/passwd", "passwd"},
		{"/etc/passwd/..", "//../etc"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, p, linkTarget string) {
		root := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
		if linkTarget != "" && !strings.ContainsRune(linkTarget, 0) {
			_ = os.Symlink(linkTarget, filepath.Join(root, "etc", "passwd"))
			_ = os.Symlink(linkTarget, filepath.Join(root, "link"))
		}
		got, err := resolveInRoot(root, p)
		if err != nil {
			return
		}
		rel, err := filepath.Rel(root, got)
		require.NoError(t, err)
		assert.False(t, rel == ".." || strings.HasPrefix(rel, "../"), "%q escaped to %q", p, got)
	})
}

func TestCRIUser(t *testing.T) {
	got := CRIUser(specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 1234, 50000}})
	assert.Equal(t, int64(1000), got.GetLinux().GetUid())
	assert.Equal(t, int64(1000), got.GetLinux().GetGid())
	assert.Equal(t, []int64{1000, 1234, 50000}, got.GetLinux().GetSupplementalGroups())
	assert.Empty(t, CRIUser(specs.User{}).GetLinux().GetSupplementalGroups())
}
