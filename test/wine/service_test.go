//go:build linux

package wine

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunsAsAService: wincri.exe registers itself with Wine's service
// control manager, sc.exe starts it and it serves, sc.exe stops it
// cleanly, and it unregisters itself.
func TestRunsAsAService(t *testing.T) {
	const name = "wincri-svc"
	ctx := ctxFor(t, 3*time.Minute)
	d := &daemon{e: suite, name: "svc", logPath: suite.daemonDir("svc") + "/wincri.log"}
	win := `C:\wincri-svc`
	out, err := suite.run(ctx, suite.exe("wincri.exe"), "--register-service", "--service-name", name,
		"--root", win+`\root`, "--state", win+`\state`, "--listen", "npipe:////./pipe/"+name, "-v", "2")
	require.NoError(t, err, out)
	t.Cleanup(func() {
		_, _ = suite.run(context.Background(), "sc.exe", "stop", name)
		_, _ = suite.run(context.Background(), suite.exe("wincri.exe"), "--unregister-service", "--service-name", name)
	})

	// Registered: automatic start, stopped for now, the command line
	// with the flags given and the log file a service needs.
	// (Wine's sc.exe has no qc: the registration is read from the
	// registry, where the service manager keeps it.)
	out, err = suite.run(ctx, "reg", "query", `HKLM\System\CurrentControlSet\Services\`+name)
	require.NoError(t, err, out)
	t.Logf("registration:\n%s", out)
	assert.Regexp(t, `Start\s+REG_DWORD\s+0x2`, out, "SERVICE_AUTO_START")
	assert.Contains(t, out, "--listen npipe:////./pipe/"+name, out)
	assert.Contains(t, out, `--log-file C:\wincri-svc\wincri.log`, out)
	waitServiceState(t, ctx, name, "STOPPED")

	// An automatic service starts at boot: a restart of the prefix's
	// wineserver boots it. (It is also what lets sc.exe start it: Wine's
	// service manager refuses SERVICE_START on a service registered
	// since it booted, with ERROR_SERVICE_DOES_NOT_EXIST.)
	require.NoError(t, suite.reboot(ctx))
	waitServiceState(t, ctx, name, "RUNNING")
	d.waitLog(t, `"Ready"`, time.Minute)
	d.prime(t)
	out, err = d.crictl(ctx, "version")
	require.NoError(t, err, out)
	assert.Contains(t, out, "RuntimeName:  wincri")

	out, err = suite.run(ctx, "sc.exe", "stop", name)
	require.NoError(t, err, out)
	waitServiceState(t, ctx, name, "STOPPED")
	d.waitLog(t, "Shutting down; containers keep running", time.Minute)

	require.NoError(t, os.Remove(d.logPath))
	out, err = suite.run(ctx, "sc.exe", "start", name)
	if err != nil {
		q, _ := suite.run(ctx, "sc.exe", "query", name)
		t.Fatalf("sc.exe start %s: %v\n%s%s", name, err, out, q)
	}
	waitServiceState(t, ctx, name, "RUNNING")
	d.waitLog(t, `"Ready"`, time.Minute)

	out, err = suite.run(ctx, "sc.exe", "stop", name)
	require.NoError(t, err, out)
	waitServiceState(t, ctx, name, "STOPPED")
	d.waitLog(t, "Shutting down; containers keep running", time.Minute)

	out, err = suite.run(ctx, suite.exe("wincri.exe"), "--unregister-service", "--service-name", name)
	require.NoError(t, err, out)
	out, err = suite.run(ctx, "sc.exe", "query", name)
	require.Error(t, err, "the service is gone: %s", out)
	out, err = suite.run(ctx, "reg", "query", `HKLM\System\CurrentControlSet\Services\`+name)
	require.Error(t, err, "its registration is gone: %s", out)
}

func waitServiceState(t *testing.T, ctx context.Context, name, state string) {
	t.Helper()
	var out string
	for ctx.Err() == nil {
		out, _ = suite.run(ctx, "sc.exe", "query", name)
		if strings.Contains(out, state) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("service %s never reached %s; last sc query:\n%s", name, state, out)
}
