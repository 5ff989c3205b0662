//go:build !windows

package main

import "context"

// withService runs serve; only Windows has a service manager to obey.
func withService(ctx context.Context, serve func(context.Context) error) error {
	return serve(ctx)
}
