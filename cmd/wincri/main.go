// Command wincri is a Kubernetes CRI runtime for Windows nodes.
//
//	wincri [--config FILE] [--root DIR] [--state DIR] [--listen ENDPOINT] [--log-file FILE] [-v N]
//	wincri --register-service [--service-name NAME] [flags]   (Windows)
//	wincri --unregister-service [--service-name NAME]         (Windows)
//	wincri version
//	wincri config default
//	wincri shim-version [PATH]   (is the runhcs shim the release wincri is tested against?)
//	wincri image import [--endpoint E] FILE|-               (through the running daemon)
//	wincri image export [--endpoint E] [-o FILE|-] IMAGE... (through the running daemon)
//
// image import reads an OCI image layout or docker save archive and
// unpacks its images as a pull would; image export writes an OCI image
// layout archive of present images, whose layers are re-created from the
// unpacked files (new digests). Both talk to the daemon's Archive gRPC
// service on its endpoint, so CRI lists an imported image at once.
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
	"syscall"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/daemon"
	"github.com/wincri/wincri/pkg/endpoint"
	"github.com/wincri/wincri/pkg/pause"
	"github.com/wincri/wincri/pkg/version"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "wincri: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "version":
			fmt.Fprintf(stdout, "%s %s\n", version.Name, version.Version())
			// The runhcs shim is installed beside wincri, not shipped with it.
			fmt.Fprintf(stdout, "built and tested against containerd-shim-runhcs-v1 from hcsshim %s\n", version.ShimVersion())
			return nil
		case "config":
			return configCommand(args[1:], stdout)
		case "shim-version":
			return shimVersionCommand(args[1:], stdout)
		case "image":
			return imageCommand(args[1:], os.Stdin, stdout, stderr)
		case "pause":
			os.Exit(pause.Run())
		}
	}
	return serve(args, stderr)
}

func configCommand(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "default" {
		return fmt.Errorf("usage: wincri config default")
	}
	out, err := config.Render(config.Default())
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

type flags struct {
	config, root, state, listen string
	// logFile receives the log instead of stderr; a panic.log beside it
	// receives a crash's stack.
	logFile string
	// register and unregister act on the Windows service serviceName;
	// runService runs as that service, under the service control manager.
	register, unregister, runService bool
	serviceName                      string
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	def := config.DefaultPaths()
	fs := flag.NewFlagSet("wincri", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &flags{}
	fs.StringVar(&f.config, "config", def.Config, "configuration file (TOML); missing means defaults")
	fs.StringVar(&f.root, "root", def.Root, "directory for persistent state: images, layers, the state database")
	fs.StringVar(&f.state, "state", def.State, "directory for runtime state: sockets, bundles, network namespaces")
	fs.StringVar(&f.listen, "listen", def.Listen, "CRI endpoint (unix:///path or npipe:////./pipe/name)")
	fs.StringVar(&f.logFile, "log-file", "", "write the log to this file instead of stderr, and a crash's stack to panic.log beside it")
	fs.BoolVar(&f.register, "register-service", false, "register wincri, with the other flags given, as a Windows service, and exit")
	fs.BoolVar(&f.unregister, "unregister-service", false, "remove the Windows service, and exit")
	fs.StringVar(&f.serviceName, "service-name", defaultServiceName, "name of the Windows service wincri registers as and runs as")
	fs.BoolVar(&f.runService, "run-service", false, "run as the Windows service --service-name, under the service control manager (the registered command line has it)")
	klog.InitFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wincri [flags]\n       wincri version\n       wincri config default\n       wincri shim-version [PATH]\n"+
			"       wincri image import [--endpoint E] FILE|-\n       wincri image export [--endpoint E] [-o FILE|-] IMAGE...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (subcommands: version, config default, shim-version, image import, image export)", fs.Arg(0))
	}
	if f.register && f.unregister {
		return nil, errors.New("--register-service and --unregister-service exclude each other")
	}
	return f, nil
}

func serve(args []string, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.unregister {
		return unregisterService(f.serviceName)
	}
	// Everything the user can get wrong is checked before anything is
	// created on disk.
	cfg, err := config.Load(f.config)
	if err != nil {
		return err
	}
	ep, err := endpoint.Parse(f.listen)
	if err != nil {
		return err
	}
	if err := setPriorityClass(cfg.PriorityClass); err != nil {
		return fmt.Errorf("priority_class: %w", err)
	}
	for _, dir := range []struct{ flag, path string }{{"--root", f.root}, {"--state", f.state}} {
		if err := checkDir(dir.path); err != nil {
			return fmt.Errorf("%s: %w", dir.flag, err)
		}
	}
	if f.register {
		return registerService(f.serviceName, serviceArgs(args, filepath.Join(filepath.Dir(f.root), "wincri.log")))
	}
	if f.logFile != "" {
		closeLog, err := logToFile(f.logFile)
		if err != nil {
			return fmt.Errorf("--log-file: %w", err)
		}
		defer closeLog()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = klog.NewContext(ctx, klog.Background())
	klog.FromContext(ctx).Info("Starting wincri", "version", version.Version(), "config", f.config)
	return withService(ctx, f.serviceName, f.runService, func(ctx context.Context) error {
		return daemon.Run(ctx, daemon.Options{Config: cfg, Root: f.root, State: f.state, Endpoint: ep})
	})
}

// checkDir accepts a missing directory (it is created later) or a
// readable one.
func checkDir(path string) error {
	if path == "" {
		return errors.New("must not be empty")
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = d.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is not readable: %w", path, err)
	}
	return nil
}
