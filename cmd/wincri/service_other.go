//go:build !windows

package main

import (
	"context"
	"errors"
)

// defaultServiceName is the service name --service-name defaults to.
const defaultServiceName = "wincri"

// errNoServiceManager is the answer to the service flags off Windows.
var errNoServiceManager = errors.New("--register-service, --unregister-service and --run-service need Windows' service control manager; use a systemd unit elsewhere (see the README)")

// withService runs serve; only Windows has a service manager to obey.
func withService(ctx context.Context, _ string, runService bool, serve func(context.Context) error) error {
	if runService {
		return errNoServiceManager
	}
	return serve(ctx)
}

func registerService(string, []string) error { return errNoServiceManager }

func unregisterService(string) error { return errNoServiceManager }
