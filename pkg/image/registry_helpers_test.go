//go:build !windows

// The registry integration tests unpack overlay layers, which is the
// Linux path; Windows layer import needs Windows layer archives.

package image

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testarchive"
	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/store"
)

// testRegistry is an in-process OCI registry on 127.0.0.1 that counts
// the blob downloads it serves.
type testRegistry struct {
	host string
	// wrap, when set, intercepts every request (auth checks, stalls).
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)

	mu       sync.Mutex
	blobGets map[string]int
	direct   http.Handler
}

func startRegistry(t testing.TB) *testRegistry {
	t.Helper()
	reg := &testRegistry{
		blobGets: map[string]int{},
		direct:   ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			reg.mu.Lock()
			reg.blobGets[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]++
			reg.mu.Unlock()
		}
		if reg.wrap != nil && r.Header.Get("X-Test-Push") == "" {
			reg.wrap(w, r, reg.direct)
			return
		}
		reg.direct.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	reg.host = strings.TrimPrefix(srv.URL, "http://")
	return reg
}

func (r *testRegistry) blobGetsOf(d string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGets[d]
}

// pushHeader marks the test's own uploads so that wrappers let them by.
type pushHeader struct{ next http.RoundTripper }

func (p pushHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Test-Push", "1")
	return p.next.RoundTrip(req)
}

func (r *testRegistry) push(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.host+"/"+repoTag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithTransport(pushHeader{http.DefaultTransport})))
	return ref.String()
}

func (r *testRegistry) pushIndex(t testing.TB, repoTag string, idx v1.ImageIndex) string {
	t.Helper()
	ref, err := name.ParseReference(r.host+"/"+repoTag, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref, idx, remote.WithTransport(pushHeader{http.DefaultTransport})))
	return ref.String()
}

// file is one tar entry of a test layer.
type file struct {
	name, body string
	typ        byte
}

func layerOf(t testing.TB, files ...file) v1.Layer {
	t.Helper()
	out := make([]testarchive.File, len(files))
	for i, f := range files {
		out[i] = testarchive.File{Name: f.name, Body: f.body, Type: f.typ}
	}
	return testarchive.Layer(t, out...)
}

func imageOf(t testing.TB, os, arch, osVersion string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.OSVersion = os, arch, osVersion
	cf.Config.User = "1234"
	cf.Config.Entrypoint = []string{"/bin/sh"}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

func configDigest(t testing.TB, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	require.NoError(t, err)
	return h.String()
}

func linuxHost() Host { return Host{OS: "linux", Architecture: "amd64"} }

type testService struct {
	*Service
	root  string
	store *store.Store
}

func newTestService(t testing.TB, host Host, mutateCfg func(*config.Image)) *testService {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return reopenService(t, dir, st, host, mutateCfg)
}

func reopenService(t testing.TB, dir string, st *store.Store, host Host, mutateCfg func(*config.Image)) *testService {
	t.Helper()
	cfg := config.Default().Image
	if mutateCfg != nil {
		mutateCfg(&cfg)
	}
	root := filepath.Join(dir, "images")
	s, err := New(context.Background(), Options{Config: cfg, Root: root, Store: st, Host: host})
	require.NoError(t, err)
	s.registry.backoff = remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}
	return &testService{Service: s, root: root, store: st}
}

func indexOf(t testing.TB, variants map[string]v1.Image) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	for _, img := range variants {
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{
				OS: cf.OS, Architecture: cf.Architecture, OSVersion: cf.OSVersion,
			}},
		})
	}
	return idx
}
