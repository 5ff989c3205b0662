package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The registered command line is --run-service and what
// --register-service was given, less the registration flags, with a log
// file since a service has no console (containerd's
// cmd/containerd/command/service_windows.go, registerService, does the
// same with its own flags and --run-service).
func TestServiceArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "bare", args: []string{"--register-service"}, want: []string{"--run-service", "--log-file", `C:\log\wincri.log`}},
		{
			name: "flags kept, service name kept, registration dropped",
			args: []string{"--register-service", "--service-name", "wincri2", "--config", `C:\cfg.toml`, "-v=4"},
			want: []string{"--run-service", "--service-name", "wincri2", "--config", `C:\cfg.toml`, "-v=4", "--log-file", `C:\log\wincri.log`},
		},
		{
			name: "own log file and the = form",
			args: []string{"-register-service=true", "--run-service", "--log-file=D:\\w.log", "--listen", "npipe:////./pipe/w2"},
			want: []string{"--run-service", "--log-file=D:\\w.log", "--listen", "npipe:////./pipe/w2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, serviceArgs(tt.args, `C:\log\wincri.log`))
		})
	}
}

// Two services may not share a display name (CreateService fails with
// ERROR_DUPLICATE_SERVICE_NAME; Wine's service manager refused a second
// wincri so): each one's display name differs.
func TestServiceDisplayName(t *testing.T) {
	assert.Equal(t, "wincri", serviceDisplayName(defaultServiceName))
	assert.Equal(t, "wincri (wincri-2)", serviceDisplayName("wincri-2"))
	assert.NotEqual(t, serviceDisplayName("a"), serviceDisplayName("b"))
}
