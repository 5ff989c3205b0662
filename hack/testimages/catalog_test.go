package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalRef(t *testing.T) {
	for _, tc := range []struct {
		in, host, path string
		wantErr        bool
	}{
		{in: "registry.k8s.io/e2e-test-images/busybox:1.29-2", host: "registry.k8s.io", path: "e2e-test-images/busybox:1.29-2"},
		{in: "k8s.gcr.io/pause:3.9", host: "k8s.gcr.io", path: "pause:3.9"},
		{in: "127.0.0.1:5000/a/b:c", host: "127.0.0.1:5000", path: "a/b:c"},
		{in: "busybox:1", wantErr: true},
		{in: "library/busybox:1", wantErr: true},
		{in: "gcr.io/x/y", wantErr: true},
		{in: "gcr.io/x/y:", wantErr: true},
		{in: "gcr.io/", wantErr: true},
		{in: "", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			host, path, err := localRef(tc.in)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.host, host)
			assert.Equal(t, tc.path, path)
		})
	}
}

func TestParseApplets(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{name: "sorted and unique", in: "sh\nls\n[\nls\n", want: []string{"[", "ls", "sh"}},
		{name: "busybox itself and blanks dropped", in: "busybox\n\n  \ncat\n", want: []string{"cat"}},
		{name: "no path tricks", in: "../x\na/b\n.\n..\nok\n", want: []string{"ok"}},
		{name: "empty", in: "", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, parseApplets(tc.in))
		})
	}
}

// TestCatalogIsConsistent guards the invariants the harness relies on: every
// name is servable, no local path serves two different images, and an
// exception is never served.
func TestCatalogIsConsistent(t *testing.T) {
	owner := map[string]int{}
	for i, s := range catalog([]byte("nnp")) {
		require.NotEmpty(t, s.names)
		for _, n := range s.names {
			_, local, err := localRef(n)
			require.NoError(t, err, n)
			if prev, ok := owner[local]; ok {
				assert.Equal(t, prev, i, "local path %s serves two images", local)
			}
			owner[local] = i
			_, isException := exceptions[n]
			assert.False(t, isException, "%s is both served and an exception", n)
		}
	}
	assert.Contains(t, owner, "e2e-test-images/nonewprivs:1.3")
	assert.NotContains(t, pathsOf(catalog(nil)), "e2e-test-images/nonewprivs:1.3", "left out without its helper")
}

func TestHosts(t *testing.T) {
	assert.Equal(t,
		[]string{"registry.k8s.io", "gcr.io", "k8s.gcr.io", "docker.io", "wincri.invalid", "public.ecr.aws"},
		hosts(catalog(nil)))
}

func pathsOf(specs []imageSpec) []string {
	var out []string
	for _, s := range specs {
		for _, n := range s.names {
			_, local, _ := localRef(n)
			out = append(out, local)
		}
	}
	return out
}
