package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/wincri/wincri/pkg/config"
)

// Auth holds the credentials of a CRI AuthConfig. It never reaches a log
// or an error; String redacts it.
type Auth struct {
	Username      string
	Password      string
	Auth          string
	IdentityToken string
	RegistryToken string
	// ServerAddress is the registry the credentials belong to; "" means
	// the registry of the image.
	ServerAddress string
}

// String keeps credentials out of any %v or %s.
func (a Auth) String() string { return "<redacted>" }

// GoString keeps credentials out of %#v.
func (a Auth) GoString() string { return "image.Auth{<redacted>}" }

func (a *Auth) empty() bool {
	return a == nil || a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == ""
}

func (a *Auth) authenticator() authn.Authenticator {
	if a.empty() {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      a.Username,
		Password:      a.Password,
		Auth:          a.Auth,
		IdentityToken: a.IdentityToken,
		RegistryToken: a.RegistryToken,
	})
}

// endpoint is one place an image can be fetched from: a mirror or the
// image's own registry.
type endpoint struct {
	host   string
	mirror bool
	// plainHTTP allows http: loopback hosts, insecure_registries and
	// mirrors configured with an http:// URL. Every other endpoint is
	// TLS only.
	plainHTTP bool
}

func (e endpoint) String() string {
	if e.mirror {
		return "mirror " + e.host
	}
	return e.host
}

// registry builds go-containerregistry options for the endpoints of a
// reference according to the [image] configuration.
type registry struct {
	insecure  []string
	mirrors   map[string][]endpoint
	transport http.RoundTripper
	// skipVerify is transport without certificate checks, for the
	// configured insecure registries that do speak TLS.
	skipVerify http.RoundTripper
	backoff    remote.Backoff
}

func newRegistry(cfg config.Image, rt http.RoundTripper) (*registry, error) {
	r := &registry{
		insecure:   cfg.InsecureRegistries,
		mirrors:    map[string][]endpoint{},
		transport:  rt,
		skipVerify: rt,
		backoff:    remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 3},
	}
	if t, ok := rt.(*http.Transport); ok {
		t = t.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true
		r.skipVerify = t
	}
	for host, urls := range cfg.Mirrors {
		for _, raw := range urls {
			ep, err := parseMirror(raw)
			if err != nil {
				return nil, fmt.Errorf("image.mirrors.%q: %w", host, err)
			}
			ep.plainHTTP = ep.plainHTTP || r.isInsecure(ep.host)
			r.mirrors[host] = append(r.mirrors[host], ep)
		}
	}
	return r, nil
}

func parseMirror(raw string) (endpoint, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return endpoint{}, fmt.Errorf("mirror %q is not a URL: %w", raw, errdefs.ErrInvalidArgument)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("mirror %q: scheme must be http or https: %w", raw, errdefs.ErrInvalidArgument)
	}
	if strings.Trim(u.Path, "/") != "" && strings.Trim(u.Path, "/") != "v2" {
		return endpoint{}, fmt.Errorf("mirror %q: a path prefix is not supported: %w", raw, errdefs.ErrInvalidArgument)
	}
	return endpoint{host: u.Host, mirror: true, plainHTTP: u.Scheme == "http"}, nil
}

// endpoints lists the mirrors of the reference's registry in order, then
// the registry itself.
func (r *registry) endpoints(ref Reference) []endpoint {
	eps := slices.Clone(r.mirrors[ref.Domain])
	return append(eps, endpoint{host: ref.Domain, plainHTTP: r.isInsecure(ref.Domain)})
}

func (r *registry) isInsecure(host string) bool {
	if slices.Contains(r.insecure, host) {
		return true
	}
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// nameFor is the reference as go-containerregistry addresses it at e:
// the same repository path on another host.
func nameFor(ref Reference, e endpoint) (name.Reference, error) {
	var opts []name.Option
	if e.plainHTTP {
		opts = append(opts, name.Insecure)
	}
	repo := e.host + "/" + ref.Path
	if ref.Digest != "" {
		return name.NewDigest(repo+"@"+ref.Digest.String(), opts...)
	}
	return name.NewTag(repo+":"+ref.Tag, opts...)
}

// options are the remote options for one endpoint. Credentials go to the
// image's own registry, and to a mirror only when the AuthConfig names
// that mirror: a mirror must not learn the secrets of another registry.
func (r *registry) options(ctx context.Context, e endpoint, auth *Auth) []remote.Option {
	cred := authn.Anonymous
	if !e.mirror || auth != nil && hostOf(auth.ServerAddress) == e.host {
		cred = auth.authenticator()
	}
	// An insecure registry may use plain HTTP or TLS with a certificate
	// nobody can verify, as containerd and cri-o treat them.
	rt := r.skipVerify
	if !e.plainHTTP {
		rt = tlsOnly{r.transport}
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(cred),
		remote.WithTransport(rt),
		remote.WithRetryBackoff(r.backoff),
		remote.WithUserAgent("wincri"),
	}
}

// hostOf takes the host out of a kubelet ServerAddress, which may be a
// URL or carry a repository path.
func hostOf(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		return u.Host
	}
	host, _, _ := strings.Cut(addr, "/")
	return host
}

// tlsOnly refuses plain HTTP. go-containerregistry falls back to http
// for private address ranges; wincri allows that only where configured.
type tlsOnly struct{ next http.RoundTripper }

func (t tlsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return nil, fmt.Errorf("refusing plain HTTP to %s (not a loopback or insecure registry): %w", req.URL.Host, errdefs.ErrUnavailable)
	}
	return t.next.RoundTrip(req)
}

// registryError classifies an error from a registry into an errdefs
// sentinel, keeping the registry's own message.
func registryError(e endpoint, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		var kind error
		switch {
		case terr.StatusCode == http.StatusUnauthorized || hasCode(terr, transport.UnauthorizedErrorCode):
			kind = errdefs.ErrUnauthenticated
		case terr.StatusCode == http.StatusForbidden || hasCode(terr, transport.DeniedErrorCode):
			kind = errdefs.ErrPermissionDenied
		case terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode):
			kind = errdefs.ErrNotFound
		case terr.StatusCode == http.StatusTooManyRequests || terr.StatusCode >= 500:
			kind = errdefs.ErrUnavailable
		case terr.StatusCode >= 400:
			kind = errdefs.ErrInvalidArgument
		default:
			kind = errdefs.ErrUnavailable
		}
		return fmt.Errorf("registry %s: %v: %w", e, terr, kind)
	}
	if errdefs.IsInvalidArgument(err) || errdefs.IsNotFound(err) || errdefs.IsUnavailable(err) || errdefs.IsDataLoss(err) {
		return fmt.Errorf("registry %s: %w", e, err)
	}
	var (
		netErr  net.Error
		certErr *x509.UnknownAuthorityError
		hostErr x509.HostnameError
	)
	if errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &certErr) || errors.As(err, &hostErr) {
		return fmt.Errorf("registry %s unreachable: %v: %w", e, err, errdefs.ErrUnavailable)
	}
	// Anything else (a truncated body, an unexpected EOF) is a transfer
	// that may well succeed when retried.
	return fmt.Errorf("registry %s: %v: %w", e, err, errdefs.ErrUnavailable)
}

func hasCode(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if slices.Contains(codes, d.Code) {
			return true
		}
	}
	return false
}
