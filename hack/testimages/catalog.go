package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// imageSpec is one image critest v1.37.0 pulls, with what the specs that
// use it rely on.
type imageSpec struct {
	// names are the upstream references the image answers for, "host/path:tag".
	// Every one must map to the same local repository path, or share it
	// with names of the same image (see localRef).
	names []string
	// config is the image configuration; Env gets PATH when it has none.
	config v1.Config
	// files fills the image's own layer on top of busybox; nil adds none.
	files func(t *tree) error
	// oci serves OCI media types; otherwise Docker schema 2, as most
	// upstream images still are. The mix makes the runtime handle both.
	oci bool
	// index serves the image as a multi-platform index with a Windows
	// decoy entry, as upstream multi-arch images are served, so that the
	// runtime has to pick the linux/amd64 entry.
	index bool
}

const (
	e2eImages = "registry.k8s.io/e2e-test-images/"
	criTools  = "gcr.io/k8s-staging-cri-tools/"
	// ecrLibrary is where critest -benchmark lists its images from.
	ecrLibrary = "public.ecr.aws/docker/library/"
	// dockerLibrary is where a bare name such as "busybox" points.
	dockerLibrary = "docker.io/library/"
	// wincriImages holds images only wincri's own suites pull; the host
	// is in the reserved .invalid domain, so it names no real registry.
	wincriImages = "wincri.invalid/"
)

// exceptions are the images critest pulls that cannot be rebuilt: they are
// pinned by a digest of upstream content. hack/critest.sh skips the specs
// that use them.
var exceptions = map[string]string{
	criTools + "test-image-digest@sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf": "pinned by the digest of an upstream manifest that cannot be rebuilt locally",
}

// catalog lists every image. helper is the compiled program of ./helper;
// without it the nonewprivs image is left out and pause is a shell script
// (which has a sleeping child that a pod sharing its PID namespace sees).
func catalog(helper []byte) []imageSpec {
	pause := func(t *tree) error { return t.file("pause", 0o755, []byte(pauseScript)) }
	if helper != nil {
		pause = func(t *tree) error { return t.file("pause", 0o755, helper) }
	}
	specs := []imageSpec{
		{
			// framework.DefaultLinuxContainerImage: most specs' container.
			names:  []string{e2eImages + "busybox:1.29-2"},
			config: v1.Config{Cmd: []string{"sh"}},
			index:  true,
		},
		{
			// Networking and streaming specs fetch its main page on port 80;
			// the Linux namespace specs look for its process.
			names:  []string{e2eImages + "nginx:1.14-2"},
			config: nginxConfig(),
			files:  nginxFiles(80),
			index:  true,
		},
		{
			// Host-network web server of the Linux streaming specs.
			names:  []string{criTools + "hostnet-nginx-amd64:latest"},
			config: nginxConfig(),
			files:  nginxFiles(12003),
			oci:    true,
		},
		{
			// Multi-container specs: a second web server that logs "httpd".
			names: []string{e2eImages + "httpd:2.4.39-4"},
			config: v1.Config{
				Cmd:          []string{"httpd-foreground"},
				Env:          []string{"PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HTTPD_PREFIX=/usr/local/apache2"},
				WorkingDir:   "/usr/local/apache2",
				ExposedPorts: map[string]struct{}{"80/tcp": {}},
				StopSignal:   "SIGTERM",
			},
			files: func(t *tree) error {
				return firstErr(
					t.file("usr/local/apache2/bin/httpd-foreground", 0o755, []byte(httpdScript)),
					t.file("usr/local/apache2/htdocs/index.html", 0o644, []byte(httpdIndex)),
				)
			},
			index: true,
		},
		{
			// The same image from two registries: removing one name must
			// remove the other. Both names map to one local path.
			names:  []string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"},
			config: v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
			files:  pause,
			index:  true,
		},
		// Image specs: one tag, no tag, one image under several tags, three
		// different images. Each carries a file named after it, as
		// upstream's image-test Dockerfile adds one, so that they differ.
		markerImage(criTools+"test-image-latest", "latest"),
		markerImage(criTools+"test-image-tag", "test", "all"),
		markerImage(criTools+"test-image-tags", "1", "2", "3"),
		markerImage(criTools+"test-image-1", "latest"),
		markerImage(criTools+"test-image-2", "latest"),
		markerImage(criTools+"test-image-3", "latest"),
		// ImageStatus must report the image's user as uid or user name.
		userImage("test-image-user-uid", "1002"),
		userImage("test-image-user-username", "www-data"),
		userImage("test-image-user-uid-group", "1003:1004"),
		userImage("test-image-user-username-group", "www-data:1004"),
		{
			// SupplementalGroupsPolicy specs: user 1000 is in group 50000
			// by /etc/group of the image only.
			names:  []string{criTools + "test-image-predefined-group:latest"},
			config: v1.Config{User: "1000", Cmd: []string{"sh"}},
			files: func(t *tree) error {
				return firstErr(
					t.file("etc/passwd", 0o644, []byte(basePasswd+"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n")),
					t.file("etc/group", 0o644, []byte(baseGroup+"default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n")),
					t.file("etc/shadow", 0o600, []byte(baseShadow+"default-user:!:19000:0:99999:7:::\n")),
					t.ownedDir("home/default-user", 0o755, 1000, 1000),
				)
			},
			oci: true,
		},
	}
	if helper != nil {
		specs = append(specs, imageSpec{
			// NoNewPrivs specs: a set-uid-root program prints its
			// effective uid, which no_new_privs keeps at the caller's.
			names:  []string{e2eImages + "nonewprivs:1.3"},
			config: v1.Config{Entrypoint: []string{"/usr/local/bin/nnp"}},
			files:  func(t *tree) error { return t.file("usr/local/bin/nnp", 0o4755, helper) },
		})
	}
	// The README's walkthrough pulls "busybox", which names this one:
	// hack/run.sh --demo serves it.
	specs = append(specs, imageSpec{
		names:  []string{dockerLibrary + "busybox:latest"},
		config: v1.Config{Cmd: []string{"sh"}},
		index:  true,
	})
	// wincri's own suites pull this one where a pull must download
	// something although busybox is present (testutil.PayloadImage).
	specs = append(specs, imageSpec{
		names:  []string{wincriImages + "wincri/pull-payload:1.0"},
		config: v1.Config{Cmd: []string{"sh"}},
		files:  func(t *tree) error { return t.file("payload", 0o644, payload(8<<20)) },
		oci:    true,
	})
	// critest -benchmark lists these; distinct images as upstream's are.
	for _, tag := range []string{"1.35.0-glibc", "1-uclibc", "1", "1-glibc", "1-musl"} {
		spec := markerImage(ecrLibrary+"busybox", tag)
		spec.files = marker("busybox-" + tag)
		specs = append(specs, spec)
	}
	return specs
}

func nginxConfig() v1.Config {
	return v1.Config{
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		StopSignal:   "SIGTERM",
	}
}

func nginxFiles(port int) func(t *tree) error {
	return func(t *tree) error {
		return firstErr(
			t.file("usr/sbin/nginx", 0o755, []byte(nginxScript)),
			t.file("etc/nginx/conf.d/default.conf", 0o644, []byte(fmt.Sprintf(nginxConf, port))),
			t.file("usr/share/nginx/html/index.html", 0o644, []byte(nginxIndex)),
			t.dir("var/run", 0o755),
			t.dir("var/log/nginx", 0o755),
		)
	}
}

func markerImage(repo string, tags ...string) imageSpec {
	names := make([]string, len(tags))
	for i, tag := range tags {
		names[i] = repo + ":" + tag
	}
	return imageSpec{
		names:  names,
		config: v1.Config{Cmd: []string{"sh"}},
		files:  marker(repo[strings.LastIndex(repo, "/")+1:]),
		oci:    true,
	}
}

// payload is n bytes that do not compress, the same on every run so that
// the image's digest is stable.
func payload(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewChaCha8([32]byte{'w', 'i', 'n', 'c', 'r', 'i'}))
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}

// marker adds /<name> holding its own name, as `ADD ${TEST} ${TEST}` does.
func marker(name string) func(t *tree) error {
	return func(t *tree) error { return t.file(name, 0o644, []byte(name+"\n")) }
}

func userImage(name, user string) imageSpec {
	return imageSpec{
		names:  []string{criTools + name + ":latest"},
		config: v1.Config{User: user, Cmd: []string{"sh"}},
		index:  true,
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// localRef splits an upstream name "host/path:tag" into the registry host,
// which the runtime's mirror configuration sends to the local registry, and
// the "path:tag" the local registry serves it under.
func localRef(upstream string) (host, pathTag string, err error) {
	host, rest, ok := strings.Cut(upstream, "/")
	if !ok || !strings.ContainsAny(host, ".:") || rest == "" {
		return "", "", fmt.Errorf("image name %q does not start with a registry host", upstream)
	}
	slash := strings.LastIndex(rest, "/")
	colon := strings.LastIndex(rest, ":")
	if colon <= slash || colon == len(rest)-1 {
		return "", "", fmt.Errorf("image name %q has no tag", upstream)
	}
	return host, rest, nil
}

// hosts lists the registry hosts of the catalog and of the exceptions, in
// first-seen order: the hosts the runtime must mirror to the local registry.
func hosts(specs []imageSpec) []string {
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, s := range specs {
		for _, n := range s.names {
			if h, _, err := localRef(n); err == nil {
				add(h)
			}
		}
	}
	for n := range exceptions {
		h, _, _ := strings.Cut(n, "/")
		add(h)
	}
	return out
}
