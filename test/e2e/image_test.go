//go:build linux

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// busyboxPath is the static busybox the test image is made of.
const busyboxPath = "/bin/busybox"

// applets get a hard link in /bin, so that commands and scripts find
// them by path whatever the shell's applet lookup does.
var applets = []string{"sh", "sleep", "echo", "cat", "true", "false", "ls", "dd", "head", "tail", "seq", "env", "kill", "ps", "date", "wc", "yes", "touch", "mkdir"}

// testImageRepo is the repository of the test image in the registry.
const testImageRepo = "e2e/busybox"

// registryServer is a loopback OCI registry holding the test image.
type registryServer struct {
	srv  *http.Server
	addr string
}

// startRegistry serves an in-memory registry on 127.0.0.1 and pushes the
// busybox test image to it.
func startRegistry(ctx context.Context) (*registryServer, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           registry.New(registry.Logger(log.New(discard{}, "", 0))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(lis) }()
	r := &registryServer{srv: srv, addr: lis.Addr().String()}
	img, err := busyboxImage()
	if err != nil {
		r.close()
		return nil, err
	}
	ref, err := name.ParseReference(r.imageRef(), name.Insecure)
	if err != nil {
		r.close()
		return nil, err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		r.close()
		return nil, fmt.Errorf("pushing the test image: %w", err)
	}
	if err := r.pushExtra(ctx, img); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// pushExtra pushes a second image: the test image with a layer of its
// own on top, 8 MiB of random data, so that pulling it downloads
// something even when the test image was pulled before.
func (r *registryServer) pushExtra(ctx context.Context, base v1.Image) error {
	data := make([]byte, 8<<20)
	_, _ = rand.Read(data)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "extra", Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(r.extraImageRef(), name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("pushing the extra test image: %w", err)
	}
	return nil
}

// extraImageRef names the second image, which shares the test image's
// layer and adds one.
func (r *registryServer) extraImageRef() string { return r.addr + "/e2e/extra:1.0" }

func (r *registryServer) imageRef() string { return r.addr + "/" + testImageRepo + ":1.29" }

func (r *registryServer) close() { _ = r.srv.Close() }

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// busyboxImage is a one-layer image: busybox, hard links for its common
// applets and the account files an image is expected to have.
func busyboxImage() (v1.Image, error) {
	bin, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Unix(0, 0)
	dirs := []string{"bin", "dev", "etc", "proc", "sys", "tmp", "root", "var"}
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode, ModTime: now}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"bin/busybox", 0o755, bin},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: now}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	for _, a := range applets {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: "bin/" + a, Linkname: "bin/busybox", ModTime: now}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.Config.Cmd = []string{"sh"}
	return mutate.ConfigFile(img, cfg)
}
