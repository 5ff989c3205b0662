package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/cri"
	"github.com/wincri/wincri/pkg/endpoint"
)

const imageUsage = `Usage: wincri image import [--endpoint E] FILE|-
       wincri image export [--endpoint E] [-o FILE|-] IMAGE...

import reads an image archive, FILE or standard input for -: an OCI image
layout archive (ctr images export, crane, skopeo oci-archive:, docker save
of docker 25 and later) or a docker save archive, plain, gzip or zstd. The
running wincri daemon unpacks it as it would pull it (the host's platform
from a multi-platform image, every digest verified) and CRI lists it at
once. Standard output gets "NAME ID" for each name of each imported
image ("<none> ID" for an image without one); standard error gets the
time taken and the bytes read.

export writes an OCI image layout archive of the images (references or
ids), with containerd's name annotations and a docker manifest.json, which
wincri image import, ctr images import and docker load read; to standard
output by default. wincri keeps no compressed layers once unpacked, so
each layer is written afresh as an uncompressed tar of its files: the
layer, config and manifest digests, and so the image id, differ from the
registry's, while the files, config and tags are the same.
`

// imageCommand runs `wincri image import|export` against the daemon.
func imageCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, imageUsage)
		return errors.New("wincri image: import or export?")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "import":
		return imageImport(ctx, args[1:], stdin, stdout, stderr)
	case "export":
		return imageExport(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stderr, imageUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, imageUsage)
	return fmt.Errorf("wincri image: unknown subcommand %q", args[0])
}

func imageFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("wincri image "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	ep := fs.String("endpoint", config.DefaultPaths().Listen, "the wincri daemon's endpoint (unix:///path or npipe:////./pipe/name)")
	fs.Usage = func() {
		fmt.Fprint(stderr, imageUsage, "\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, ep
}

func imageImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, ep := imageFlags("import", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: wincri image import [--endpoint E] FILE|-")
	}
	src, in := fs.Arg(0), stdin
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else {
		src = "standard input"
	}
	client, err := dialArchive(ctx, *ep)
	if err != nil {
		return err
	}
	defer client.Close()
	start := time.Now()
	imgs, read, err := client.Import(ctx, in)
	if err != nil {
		return fmt.Errorf("importing %s: %w", src, err)
	}
	for _, img := range imgs {
		if len(img.Names) == 0 {
			fmt.Fprintf(stdout, "<none> %s\n", img.ID)
		}
		for _, n := range img.Names {
			fmt.Fprintf(stdout, "%s %s\n", n, img.ID)
		}
	}
	fmt.Fprintf(stderr, "imported %d image(s) from %s in %.3fs, %d bytes read\n", len(imgs), src, time.Since(start).Seconds(), read)
	return nil
}

func imageExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, ep := imageFlags("export", stderr)
	out := fs.String("o", "-", "archive to write; - is standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: wincri image export [--endpoint E] [-o FILE|-] IMAGE [IMAGE ...]")
	}
	if f, ok := stdout.(*os.File); ok && *out == "-" && isTerminal(f) {
		return errors.New("refusing to write an archive to a terminal: use -o FILE or redirect standard output")
	}
	client, err := dialArchive(ctx, *ep)
	if err != nil {
		return err
	}
	defer client.Close()
	start := time.Now()
	dest, w := "standard output", stdout
	var tmp *os.File
	if *out != "-" {
		// Written beside the target and renamed when complete, so that
		// a failed export never leaves a truncated archive under the
		// name.
		dest = *out
		if tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".partial-"); err != nil {
			return err
		}
		defer func() {
			tmp.Close()
			os.Remove(tmp.Name())
		}()
		w = tmp
	}
	n, err := client.Export(ctx, fs.Args(), w)
	if err != nil {
		return fmt.Errorf("exporting %s: %w", strings.Join(fs.Args(), ", "), err)
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "exported %d image(s) to %s in %.3fs, %d bytes written\n", fs.NArg(), dest, time.Since(start).Seconds(), n)
	return nil
}

func dialArchive(ctx context.Context, ep string) (*cri.ArchiveClient, error) {
	e, err := endpoint.Parse(ep)
	if err != nil {
		return nil, fmt.Errorf("--endpoint: %w", err)
	}
	return cri.DialArchive(ctx, e)
}
