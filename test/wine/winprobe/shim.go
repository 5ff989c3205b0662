//go:build windows

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Microsoft/go-winio"

	"github.com/wincri/wincri/pkg/shim"
)

// shimResult is what launching a shim the way wincri does showed.
type shimResult struct {
	Address  string `json:"address"`
	Version  int    `json:"version"`
	Protocol string `json:"protocol"`
	Pid      int    `json:"pid"`
	// Reconnected is set when the connection Launch made was the one
	// Wine gives to go-winio's placeholder instance (see prime), so the
	// probe connected again through Connect, as wincri does at restart.
	Reconnected bool `json:"reconnected"`
	Shutdown    bool `json:"shutdown"`
}

const (
	podID = "winprobe-pod"
	// shimPipe is where runhcs serves a pod's shim in wincri's namespace
	// (hcsshim cmd/containerd-shim-runhcs-v1/start.go, addrFmt).
	shimPipe = `\\.\pipe\ProtectedPrefix\Administrators\containerd-shim-` + shim.DefaultNamespace + "-" + podID + "-pipe"
)

// launchShim starts BINARY through wincri's shim driver for a pod whose
// bundle is a fresh directory under stateDir: the start handshake, the
// ttrpc connection to the address it answers, and a Shutdown.
func launchShim(binary, stateDir string) (shimResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	d, err := shim.NewManager(shim.ManagerOpts{StateDir: stateDir})
	if err != nil {
		return shimResult{}, err
	}
	defer d.Close()
	bundle := filepath.Join(stateDir, "bundles", podID)
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return shimResult{}, err
	}
	// runhcs's start reads only the annotations that group a pod's tasks
	// on one shim; wincri writes the same ones for a pod's sandbox task.
	spec := []byte(`{"ociVersion":"1.2.0","annotations":{` +
		`"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":"` + podID + `"}}`)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), spec, 0o600); err != nil {
		return shimResult{}, err
	}
	go primeWhenServed(ctx, shimPipe)

	launchCtx, launchCancel := context.WithTimeout(ctx, 20*time.Second)
	s, err := d.Launch(launchCtx, shim.LaunchOpts{ID: podID, Binary: binary, Bundle: bundle})
	launchCancel()
	res := shimResult{}
	if err != nil {
		if !strings.Contains(err.Error(), "context deadline exceeded") {
			return res, fmt.Errorf("launching %s: %w", binary, err)
		}
		// The start handshake went through (the address file is written
		// by it) but Launch's connection went to the placeholder.
		addr, rerr := os.ReadFile(filepath.Join(bundle, "address"))
		if rerr != nil {
			return res, fmt.Errorf("launching %s: %w (and no address file: %w)", binary, err, rerr)
		}
		res.Reconnected = true
		if s, err = d.Connect(ctx, shim.Address{Address: strings.TrimSpace(string(addr)), Version: 2, Protocol: "ttrpc", ShimID: podID, Bundle: bundle}); err != nil {
			return res, fmt.Errorf("connecting to the shim at %s: %w", addr, err)
		}
	}
	addr := s.Address()
	res.Address, res.Version, res.Protocol, res.Pid = addr.Address, addr.Version, addr.Protocol, s.Pid()
	if err := s.Shutdown(ctx); err != nil {
		return res, fmt.Errorf("shutting down the shim at %s: %w", addr.Address, err)
	}
	res.Shutdown = true
	return res, nil
}

// primeWhenServed takes, as soon as the shim's pipe exists, the
// connection Wine gives to go-winio's placeholder instance (see prime).
func primeWhenServed(ctx context.Context, path string) {
	for ctx.Err() == nil {
		timeout := 10 * time.Millisecond
		if c, err := winio.DialPipe(path, &timeout); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(time.Millisecond)
	}
}
