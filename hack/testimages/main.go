// Command testimages builds, from a local busybox binary, every image that
// critest v1.37.0 pulls, pushes them to an in-memory registry on a loopback
// address under the repository paths and tags critest asks for, and serves
// them until it receives SIGTERM or SIGINT. A runtime under test reaches it
// by mirroring the upstream registry hosts (`testimages --hosts`) to
// http://<address>.
//
// Nothing is downloaded: the images are made of busybox, small scripts that
// stand in for the upstream servers, and a small compiled helper (./helper)
// for the nonewprivs and pause images.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"

	"k8s.io/klog/v2"
)

func main() {
	klog.InitFlags(nil)
	var (
		addr       = flag.String("addr", "127.0.0.1:0", "loopback host:port to serve the registry on (port 0 picks a free one)")
		busyboxBin = flag.String("busybox", "/bin/busybox", "busybox binary the images are built from (static, or dynamic: its libraries are copied)")
		helperBin  = flag.String("helper", "", "static build of ./hack/testimages/helper; empty leaves the nonewprivs image out and makes pause a shell script")
		addrFile   = flag.String("addr-file", "", "file to write the registry's host:port to once every image is served")
		logReqs    = flag.Bool("log-requests", false, "log every registry request to standard error")
		listHosts  = flag.Bool("hosts", false, "print the registry hosts to mirror, one a line, and exit")
		list       = flag.Bool("list", false, "print every upstream image name and the local path serving it, then the exceptions, and exit")
		randoms    []randomSpec
	)
	flag.Func("random", "also serve an image of random, incompressible content, NAME=SIZE/LAYERS (e.g. wincri.invalid/bench/big:1=200MiB/8); repeatable", func(v string) error {
		spec, err := parseRandomSpec(v)
		randoms = append(randoms, spec)
		return err
	})
	flag.Parse()

	logger := klog.NewKlogr()
	ctx := klog.NewContext(context.Background(), logger)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	switch {
	case *listHosts:
		for _, h := range hosts(catalog([]byte{})) {
			fmt.Println(h)
		}
		return
	case *list:
		printCatalog(catalog([]byte{}))
		return
	}
	if err := run(ctx, *addr, *busyboxBin, *helperBin, *addrFile, *logReqs, randoms); err != nil {
		logger.Error(err, "testimages failed")
		klog.Flush()
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, busyboxBin, helperBin, addrFile string, logReqs bool, randoms []randomSpec) error {
	logger := klog.FromContext(ctx)
	var helper []byte
	if helperBin != "" {
		b, err := os.ReadFile(helperBin)
		if err != nil {
			return fmt.Errorf("reading the helper: %w", err)
		}
		helper = b
	} else {
		logger.Info("No -helper given: the nonewprivs image is left out and pause is a shell script")
	}
	bb, err := loadBusybox(ctx, busyboxBin)
	if err != nil {
		return err
	}
	images, err := buildAll(bb, catalog(helper))
	if err != nil {
		return err
	}
	for _, spec := range randoms {
		img, err := buildRandom(spec)
		if err != nil {
			return err
		}
		images = append(images, img)
	}
	var reqLog io.Writer
	if logReqs {
		reqLog = os.Stderr
	}
	srv, err := startRegistry(ctx, addr, reqLog)
	if err != nil {
		return err
	}
	if err := srv.push(ctx, images); err != nil {
		_ = srv.stop(context.WithoutCancel(ctx))
		return err
	}
	if addrFile != "" {
		if err := writeFileAtomic(addrFile, []byte(srv.addr+"\n")); err != nil {
			_ = srv.stop(context.WithoutCancel(ctx))
			return err
		}
	}
	logger.Info("Serving test images", "address", srv.addr, "images", len(images), "libraries", len(bb.libs))
	<-ctx.Done()
	logger.Info("Stopping")
	return srv.stop(context.WithoutCancel(ctx))
}

// buildAll builds every spec on one shared busybox layer.
func buildAll(bb *busybox, specs []imageSpec) ([]built, error) {
	b, err := newBuilder(bb)
	if err != nil {
		return nil, err
	}
	out := make([]built, 0, len(specs))
	for _, s := range specs {
		img, err := b.build(s)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// writeFileAtomic writes by rename so that a reader polling for the file
// never sees it half written.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func printCatalog(specs []imageSpec) {
	for _, s := range specs {
		for _, n := range s.names {
			_, local, err := localRef(n)
			if err != nil {
				local = "ERROR: " + err.Error()
			}
			fmt.Printf("%s\t%s\n", n, local)
		}
	}
	names := make([]string, 0, len(exceptions))
	for n := range exceptions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%s\tEXCEPTION: %s\n", n, exceptions[n])
	}
}
