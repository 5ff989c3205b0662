package image

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// Docker Hub's canonical names, as kubelet and crictl write them.
const (
	dockerDomain       = "docker.io"
	legacyDockerDomain = "index.docker.io"
	officialRepoPrefix = "library/"
	defaultTag         = "latest"
)

// The grammar of the distribution reference specification.
var (
	domainRE    = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$`)
	componentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	tagRE       = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	imageIDRE   = regexp.MustCompile(`^(?:sha256:)?([a-f0-9]{64})$`)
)

// Reference is a normalised image reference: Domain is never empty, a
// Docker Hub official image carries "library/", and Tag is "latest" when
// the reference names neither a tag nor a digest.
type Reference struct {
	Domain string
	Path   string
	Tag    string
	Digest digest.Digest
}

// ParseReference normalises s the way kubelet and crictl do, so that
// "busybox" becomes "docker.io/library/busybox:latest". A reference with
// both a tag and a digest is pinned by its digest and the tag is dropped,
// as containerd does: the registry is asked for the digest only, so the
// tag would be a claim nobody verified. Errors wrap ErrInvalidArgument.
func ParseReference(s string) (Reference, error) {
	invalid := func(why string) (Reference, error) {
		return Reference{}, fmt.Errorf("invalid image reference %q: %s: %w", s, why, errdefs.ErrInvalidArgument)
	}
	if s == "" {
		return invalid("empty")
	}
	if len(s) > 4096 {
		return invalid("too long")
	}
	if imageIDRE.MatchString(s) {
		return invalid("an image id is not a reference")
	}
	var ref Reference
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		d, err := digest.Parse(rest[i+1:])
		if err != nil {
			return invalid("bad digest: " + err.Error())
		}
		ref.Digest = d
		rest = rest[:i]
	}
	// A tag follows the last colon that comes after the last slash; a
	// colon before it belongs to a registry port.
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		tag := rest[i+1:]
		if !tagRE.MatchString(tag) {
			return invalid("bad tag " + quote(tag))
		}
		ref.Tag = tag
		rest = rest[:i]
	}
	domain, path := splitDomain(rest)
	if !domainRE.MatchString(domain) {
		return invalid("bad registry host " + quote(domain))
	}
	if path == "" {
		return invalid("no repository")
	}
	for _, c := range strings.Split(path, "/") {
		if !componentRE.MatchString(c) {
			return invalid("bad repository path component " + quote(c) + " (lower case letters, digits and separators only)")
		}
	}
	if len(path) > 255 {
		return invalid("repository name longer than 255 characters")
	}
	ref.Domain, ref.Path = domain, path
	if ref.Digest != "" {
		ref.Tag = ""
	} else if ref.Tag == "" {
		ref.Tag = defaultTag
	}
	return ref, nil
}

// splitDomain applies Docker's rule: the first component is a registry
// host only if it looks like one (has a dot or a port, or is localhost).
func splitDomain(name string) (domain, path string) {
	i := strings.IndexByte(name, '/')
	if i < 0 || !strings.ContainsAny(name[:i], ".:") && name[:i] != "localhost" && strings.ToLower(name[:i]) == name[:i] {
		domain, path = dockerDomain, name
	} else {
		domain, path = name[:i], name[i+1:]
	}
	if domain == legacyDockerDomain {
		domain = dockerDomain
	}
	if domain == dockerDomain && !strings.ContainsRune(path, '/') {
		path = officialRepoPrefix + path
	}
	return domain, path
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// Repository is the reference without tag or digest.
func (r Reference) Repository() string { return r.Domain + "/" + r.Path }

// String is the normalised reference: repository:tag or repository@digest.
func (r Reference) String() string {
	if r.Digest != "" {
		return r.Repository() + "@" + r.Digest.String()
	}
	return r.Repository() + ":" + r.Tag
}

// parseImageID recognises a full image id, with or without "sha256:".
func parseImageID(s string) (string, bool) {
	m := imageIDRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return "sha256:" + m[1], true
}
