package main

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// floorCommand measures the physical floor of a pull of one image: every
// layer blob fetched at once from the registry, decompressed as it
// arrives and its uncompressed bytes written to a file of dir, each file
// fsynced before it counts as written, as a runtime must make a layer
// durable before it records it. No runtime does less and stays durable.
func floorCommand(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	var (
		registry = fs.String("registry", "", "the test registry's host:port")
		image    = fs.String("image", "", "the image, by its upstream name host/path:tag; the registry serves it under path:tag")
		dir      = fs.String("dir", "", "an empty directory on the runtimes' file system")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *registry == "" || *image == "" || *dir == "" {
		return errors.New("floor: -registry, -image and -dir are required")
	}
	_, pathTag, ok := strings.Cut(*image, "/")
	if !ok {
		return fmt.Errorf("floor: image %q has no registry host", *image)
	}
	ref, err := name.ParseReference(*registry+"/"+pathTag, name.Insecure)
	if err != nil {
		return err
	}
	// The manifest is fetched before the clock starts: what is timed is
	// the layers, the bulk of any big pull.
	img, err := remote.Image(ref)
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	repo := ref.Context().RepositoryStr()
	f, err := measure(*registry, func() error {
		errs := make([]error, len(m.Layers))
		var wg sync.WaitGroup
		for i, l := range m.Layers {
			wg.Go(func() {
				url := fmt.Sprintf("http://%s/v2/%s/blobs/%s", *registry, repo, l.Digest)
				errs[i] = writeLayer(url, filepath.Join(*dir, fmt.Sprintf("layer-%d", i)))
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		return syncDir(*dir)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pullbench: floor: %.0f ms, %d bytes fetched\n", f.Ms, f.Bytes)
	return json.NewEncoder(os.Stdout).Encode(map[string]figure{"floor": f})
}

func writeLayer(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
