//go:build !windows

package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/go-logr/logr/funcr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-Pa55"
)

// basicAuth answers like a registry that wants basic credentials:
// 401 without valid ones, 403 for a user without access.
func basicAuth(w http.ResponseWriter, r *http.Request, next http.Handler) {
	user, pass, ok := r.BasicAuth()
	switch {
	case ok && user == testUser && pass == testPassword:
		next.ServeHTTP(w, r)
	case ok && user == "bob":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"bob may not read this repository"}]}`)
	default:
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"login required for this test registry"}]}`)
	}
}

func TestPullAuth(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "secret-app", body: "x"}))
	ref := reg.push(t, "private/app:1", img)
	reg.wrap = basicAuth

	tests := []struct {
		name    string
		auth    *Auth
		wantErr error
		message string
	}{
		{"anonymous", nil, errdefs.ErrUnauthenticated, "login required"},
		{"wrong password", &Auth{Username: testUser, Password: "wrong"}, errdefs.ErrUnauthenticated, "login required"},
		{"no access", &Auth{Username: "bob", Password: "pw"}, errdefs.ErrPermissionDenied, "bob may not read"},
		{"username and password", &Auth{Username: testUser, Password: testPassword}, nil, ""},
		{"auth field", &Auth{Auth: base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword))}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := funcr.New(func(prefix, args string) { logs.WriteString(prefix + args + "\n") }, funcr.Options{Verbosity: 10})
			ctx := klog.NewContext(context.Background(), logger)
			s := newTestService(t, linuxHost(), nil)
			id, err := s.Pull(ctx, ref, PullOptions{Auth: tt.auth})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.message, "the registry's own message")
				assert.NotContains(t, err.Error(), testPassword)
			} else {
				require.NoError(t, err)
				assert.Equal(t, configDigest(t, img), id)
			}
			assert.NotContains(t, logs.String(), testPassword, "no secret in logs")
			assert.NotContains(t, logs.String(), base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPassword)))
			assert.Equal(t, "<redacted>", fmt.Sprint(&Auth{Password: testPassword}))
		})
	}
}

// A pull of an image whose registry has mirrors tries each mirror in
// order, and the image keeps its original name.
func TestPullThroughMirrors(t *testing.T) {
	testutil.RequireRoot(t)
	empty := startRegistry(t)
	broken := startRegistry(t)
	broken.wrap = func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		http.Error(w, "mirror down", http.StatusBadGateway)
	}
	good := startRegistry(t)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "pause", body: "p"}))
	good.push(t, "pause:3.10", img)

	// registry.example.test is never contacted: a mirror serves it.
	const original = "registry.example.test/pause:3.10"
	s := newTestService(t, linuxHost(), func(c *config.Image) {
		c.Mirrors = map[string][]string{"registry.example.test": {
			"http://" + broken.host, "http://" + empty.host, "http://" + good.host,
		}}
		c.SandboxImage = original
	})
	ctx := context.Background()
	id, err := s.Pull(ctx, original, PullOptions{})
	require.NoError(t, err)
	img2, err := s.Status(ctx, original)
	require.NoError(t, err)
	assert.Equal(t, id, img2.ID)
	assert.Equal(t, []string{original}, img2.RepoTags)
	md, _ := img.Digest()
	assert.Equal(t, []string{"registry.example.test/pause@" + md.String()}, img2.RepoDigests)
	assert.True(t, s.Pinned(img2), "the sandbox image is pinned")
	_, err = s.Status(ctx, good.host+"/pause:3.10")
	assert.ErrorIs(t, err, errdefs.ErrNotFound, "not listed under the mirror's name")
}

// A mirror that serves the manifest but fails a layer download does not
// fail the pull: the blob comes from the next endpoint that has it.
func TestBlobFallsBackToNextEndpoint(t *testing.T) {
	testutil.RequireRoot(t)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "f", body: "fallback"}))
	layers, err := img.Layers()
	require.NoError(t, err)
	layerDigest, err := layers[0].Digest()
	require.NoError(t, err)
	flaky := startRegistry(t)
	flaky.push(t, "app:1", img)
	flaky.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, layerDigest.String()) {
			http.Error(w, "disk error", http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	}
	good := startRegistry(t)
	good.push(t, "app:1", img)
	s := newTestService(t, linuxHost(), func(c *config.Image) {
		c.Mirrors = map[string][]string{"registry.example.test": {"http://" + flaky.host, "http://" + good.host}}
	})
	id, err := s.Pull(context.Background(), "registry.example.test/app:1", PullOptions{})
	require.NoError(t, err)
	assert.Equal(t, configDigest(t, img), id)
	assert.Positive(t, flaky.blobGetsOf(layerDigest.String()))
	assert.Equal(t, 1, good.blobGetsOf(layerDigest.String()))
}

func TestRegistryEndpoints(t *testing.T) {
	r, err := newRegistry(config.Image{
		InsecureRegistries: []string{"10.0.0.5:5000"},
		Mirrors: map[string][]string{
			"docker.io": {"http://127.0.0.1:5001", "mirror.example.test", "https://tls.example.test/v2/"},
		},
	}, http.DefaultTransport)
	require.NoError(t, err)
	eps := r.endpoints(mustRef(t, "busybox"))
	assert.Equal(t, []endpoint{
		{host: "127.0.0.1:5001", mirror: true, plainHTTP: true},
		{host: "mirror.example.test", mirror: true},
		{host: "tls.example.test", mirror: true},
		{host: "docker.io"},
	}, eps)
	assert.Equal(t, []endpoint{{host: "10.0.0.5:5000", plainHTTP: true}}, r.endpoints(mustRef(t, "10.0.0.5:5000/app")))
	assert.Equal(t, []endpoint{{host: "localhost:5000", plainHTTP: true}}, r.endpoints(mustRef(t, "localhost:5000/app")))
	assert.Equal(t, []endpoint{{host: "[::1]:5000", plainHTTP: true}}, r.endpoints(mustRef(t, "[::1]:5000/app")))
	assert.Equal(t, []endpoint{{host: "10.0.0.6:5000"}}, r.endpoints(mustRef(t, "10.0.0.6:5000/app")), "private addresses are TLS only")

	for _, bad := range []string{"ftp://m.example.test", "https://m.example.test/prefix", "http://"} {
		_, err := newRegistry(config.Image{Mirrors: map[string][]string{"docker.io": {bad}}}, http.DefaultTransport)
		assert.ErrorIs(t, err, errdefs.ErrInvalidArgument, bad)
	}
}

func TestAuthenticatorFields(t *testing.T) {
	tests := []struct {
		name string
		auth *Auth
		want authn.AuthConfig
	}{
		{"none", nil, authn.AuthConfig{}},
		{"empty", &Auth{ServerAddress: "r.example.test"}, authn.AuthConfig{}},
		{"basic", &Auth{Username: "u", Password: "p"}, authn.AuthConfig{Username: "u", Password: "p"}},
		{"auth", &Auth{Auth: "dTpw"}, authn.AuthConfig{Auth: "dTpw"}},
		{"identity token", &Auth{IdentityToken: "refresh"}, authn.AuthConfig{IdentityToken: "refresh"}},
		{"registry token", &Auth{RegistryToken: "bearer"}, authn.AuthConfig{RegistryToken: "bearer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.auth.authenticator().Authorization()
			require.NoError(t, err)
			assert.Equal(t, tt.want, *got)
		})
	}
	a := Auth{Password: testPassword}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", &a, a, a, a)} {
		assert.NotContains(t, s, testPassword)
	}
}

func TestTLSOnlyRefusesPlainHTTP(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "http://10.0.0.6:5000/v2/", nil)
	require.NoError(t, err)
	_, err = tlsOnly{http.DefaultTransport}.RoundTrip(req)
	require.ErrorIs(t, err, errdefs.ErrUnavailable)
	assert.Contains(t, err.Error(), "plain HTTP")
}

// Credentials go to the image's registry, and to a mirror only when the
// AuthConfig names it.
func TestCredentialsOnlyForTheirRegistry(t *testing.T) {
	testutil.RequireRoot(t)
	mirror := startRegistry(t)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "m", body: "m"}))
	mirror.push(t, "app:1", img)
	var sawAuth bool
	mirror.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Header.Get("Authorization") != "" {
			sawAuth = true
		}
		basicAuth(w, r, next)
	}
	s := newTestService(t, linuxHost(), func(c *config.Image) {
		c.Mirrors = map[string][]string{"127.0.0.1:1": {"http://" + mirror.host}}
	})
	auth := &Auth{Username: testUser, Password: testPassword}
	_, err := s.Pull(context.Background(), "127.0.0.1:1/app:1", PullOptions{Auth: auth})
	require.ErrorIs(t, err, errdefs.ErrUnavailable, "the registry itself is unreachable after the mirror refused")
	assert.False(t, sawAuth, "the mirror never saw the credentials of another registry")

	auth.ServerAddress = "http://" + mirror.host
	id, err := s.Pull(context.Background(), "127.0.0.1:1/app:1", PullOptions{Auth: auth})
	require.NoError(t, err, "credentials that name the mirror go to the mirror")
	assert.Equal(t, configDigest(t, img), id)
}

func TestWatchdog(t *testing.T) {
	testutil.RequireRoot(t)
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "big", body: string(body)}))

	t.Run("stalled download", func(t *testing.T) {
		reg := startRegistry(t)
		ref := reg.push(t, "slow/app:1", img)
		reg.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if r.Method == http.MethodGet && bytes.Contains([]byte(r.URL.Path), []byte("/blobs/")) {
				w.WriteHeader(http.StatusOK)
				w.Write([]byte{0x1f})
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		}
		s := newTestService(t, linuxHost(), func(c *config.Image) { c.PullProgressTimeout.Duration = 300 * time.Millisecond })
		_, err := s.Pull(context.Background(), ref, PullOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "no download progress for 300ms")
	})

	t.Run("stalled unpack", func(t *testing.T) {
		reg := startRegistry(t)
		ref := reg.push(t, "slow/app:1", img)
		s := newTestService(t, linuxHost(), func(c *config.Image) { c.PullProgressTimeout.Duration = 300 * time.Millisecond })
		s.unpackFn = func(ctx context.Context, _ string, _ []string, r io.Reader) (layerUsage, error) {
			r.Read(make([]byte, 512))
			<-ctx.Done()
			return layerUsage{}, context.Cause(ctx)
		}
		_, err := s.Pull(context.Background(), ref, PullOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "no unpack progress")
	})

	t.Run("slow but steady download succeeds", func(t *testing.T) {
		// Random bytes do not compress: the blob takes ~12 pauses.
		noise := make([]byte, 48<<10)
		_, _ = rand.Read(noise)
		img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "noise", body: string(noise)}))
		reg := startRegistry(t)
		ref := reg.push(t, "slow/app:1", img)
		reg.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if r.Method == http.MethodGet && bytes.Contains([]byte(r.URL.Path), []byte("/blobs/")) {
				next.ServeHTTP(&trickle{ResponseWriter: w, every: 50 * time.Millisecond}, r)
				return
			}
			next.ServeHTTP(w, r)
		}
		s := newTestService(t, linuxHost(), func(c *config.Image) { c.PullProgressTimeout.Duration = 300 * time.Millisecond })
		start := time.Now()
		_, err := s.Pull(context.Background(), ref, PullOptions{})
		require.NoError(t, err)
		assert.Greater(t, time.Since(start), 300*time.Millisecond, "the pull outlived the progress timeout")
	})
}

// trickle writes a response in small pieces with pauses.
type trickle struct {
	http.ResponseWriter
	every time.Duration
}

func (t *trickle) Write(b []byte) (int, error) {
	const chunk = 4 << 10
	written := 0
	for len(b) > 0 {
		n := min(chunk, len(b))
		m, err := t.ResponseWriter.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		t.ResponseWriter.(http.Flusher).Flush()
		b = b[n:]
		time.Sleep(t.every)
	}
	return written, nil
}
