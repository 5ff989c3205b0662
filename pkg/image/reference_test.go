package image

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseReference(t *testing.T) {
	tests := []struct {
		in, want, repo string
	}{
		{"busybox", "docker.io/library/busybox:latest", "docker.io/library/busybox"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "docker.io/library/busybox"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "docker.io/library/busybox"},
		{"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "docker.io/library/busybox"},
		{"user/app", "docker.io/user/app:latest", "docker.io/user/app"},
		{"registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", "registry.k8s.io/pause"},
		{"localhost/app", "localhost/app:latest", "localhost/app"},
		{"127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000/a/b/c:v1", "127.0.0.1:5000/a/b/c"},
		{"localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app"},
		{"busybox@" + testDigest, "docker.io/library/busybox@" + testDigest, "docker.io/library/busybox"},
		{"busybox:1.36@" + testDigest, "docker.io/library/busybox@" + testDigest, "docker.io/library/busybox"},
		{"mcr.microsoft.com/windows/nanoserver:ltsc2022", "mcr.microsoft.com/windows/nanoserver:ltsc2022", "mcr.microsoft.com/windows/nanoserver"},
		{"[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ref, err := ParseReference(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ref.String())
			assert.Equal(t, tt.repo, ref.Repository())
		})
	}
}

func TestParseReferenceInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"Busybox",
		"busybox:",
		"busybox@sha256:abc",
		"busybox:bad tag",
		"registry.example.com/",
		"a//b",
		"-bad.host/app",
		testDigest,
		"UPPER.example.com/App",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseReference(in)
			require.Error(t, err)
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}

func TestParseImageID(t *testing.T) {
	id, ok := parseImageID(testDigest)
	assert.True(t, ok)
	assert.Equal(t, testDigest, id)
	id, ok = parseImageID(testDigest[len("sha256:"):])
	assert.True(t, ok)
	assert.Equal(t, testDigest, id)
	_, ok = parseImageID("busybox")
	assert.False(t, ok)
}
