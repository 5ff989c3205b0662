package faultpoint

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary act as the process under test.
const helperEnv = "FAULTPOINT_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		ctx := context.Background()
		Hit(ctx, "other-point")
		os.Stdout.WriteString("before\n")
		Hit(ctx, PodAfterNetwork)
		os.Stdout.WriteString("after\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestHit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		armed    string
		wantOut  string
		wantKill bool
	}{
		{name: "unarmed", armed: "", wantOut: "before\nafter\n"},
		{name: "another point armed", armed: PullAfterContent, wantOut: "before\nafter\n"},
		{name: "this point armed", armed: PodAfterNetwork, wantOut: "before\n", wantKill: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=1", EnvVar+"="+tc.armed)
			out, err := cmd.Output()
			assert.Equal(t, tc.wantOut, string(out))
			if !tc.wantKill {
				require.NoError(t, err)
				return
			}
			var exitErr *exec.ExitError
			require.True(t, errors.As(err, &exitErr), "want the process killed, got %v", err)
			if runtime.GOOS != "windows" {
				ws, ok := exitErr.Sys().(syscall.WaitStatus)
				require.True(t, ok)
				assert.True(t, ws.Signaled())
				assert.Equal(t, syscall.SIGKILL, ws.Signal())
			}
		})
	}
}

func BenchmarkHitUnarmed(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		Hit(ctx, PodAfterShimLaunch)
	}
}
