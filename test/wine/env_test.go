//go:build linux

package wine

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// env is what every test of the suite shares: one Wine prefix, and the
// Windows binaries installed in it as a node owner installs them.
type env struct {
	prefix string // WINEPREFIX
	bin    string // the unpacked release: wincri.exe, crictl.exe...
	probe  string // winprobe.exe
	shim   string // containerd-shim-runhcs-v1.exe, "" when not found
	// release is the zip the binaries come from.
	release string
}

var suite *env

func TestMain(m *testing.M) {
	code, err := setUp(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wine suite:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setUp(m *testing.M) (int, error) {
	if _, err := exec.LookPath("wine"); err != nil {
		return 0, fmt.Errorf("wine is not installed (hack/setup.sh installs it): %w", err)
	}
	work, err := os.MkdirTemp("", "wincri-wine-")
	if err != nil {
		return 0, err
	}
	if os.Getenv("WINCRI_WINE_KEEP") == "" {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintf(os.Stderr, "wine suite: keeping %s (WINCRI_WINE_KEEP)\n", work)
	}
	e := &env{prefix: filepath.Join(work, "prefix"), bin: filepath.Join(work, "release")}
	start := time.Now()
	if err := e.install(work); err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "wine suite: prefix and release ready in %s\n", time.Since(start).Round(time.Millisecond))
	defer e.wineserverKill()
	suite = e
	return m.Run(), nil
}

// repoRoot is the module's root, two levels above this package.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func (e *env) install(work string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root := repoRoot()
	e.release = os.Getenv("WINCRI_RELEASE_ZIP")
	if e.release == "" {
		out, err := command(ctx, "", nil, "bash", filepath.Join(root, "hack", "release.sh"), "--out", filepath.Join(work, "zip"))
		if err != nil {
			return fmt.Errorf("building the release zip: %w", err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		e.release = lines[len(lines)-1]
	}
	if err := unzipFlat(e.release, e.bin); err != nil {
		return fmt.Errorf("unpacking %s: %w", e.release, err)
	}
	e.probe = filepath.Join(work, "winprobe.exe")
	if _, err := command(ctx, root, []string{"CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64"},
		"go", "build", "-o", e.probe, "./test/wine/winprobe"); err != nil {
		return fmt.Errorf("building winprobe: %w", err)
	}
	dll := filepath.Join(work, "bcryptprimitives.dll")
	if _, err := command(ctx, "", nil, "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", dll,
		filepath.Join(root, "test", "wine", "prng", "prng.c"),
		filepath.Join(root, "test", "wine", "prng", "bcryptprimitives.def"), "-ladvapi32"); err != nil {
		return fmt.Errorf("building bcryptprimitives.dll (gcc-mingw-w64-x86-64): %w", err)
	}
	// One persistent wineserver serves every command of the suite.
	if err := os.MkdirAll(e.prefix, 0o755); err != nil {
		return err
	}
	if _, err := e.wine(ctx, "wineserver", "-p"); err != nil {
		return fmt.Errorf("starting the wineserver: %w", err)
	}
	if _, err := e.wine(ctx, "wineboot", "-i"); err != nil {
		return fmt.Errorf("creating the Wine prefix: %w", err)
	}
	if err := copyFile(dll, filepath.Join(e.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")); err != nil {
		return err
	}
	// Windows 10's major and minor version (Wine's default is Windows 7),
	// then the build.
	if _, err := e.wine(ctx, "wine", "winecfg", "/v", "win10"); err != nil {
		return fmt.Errorf("making the prefix Windows 10: %w", err)
	}
	if err := e.emulate(ctx, server, 20348); err != nil {
		return err
	}
	e.shim = findShim(root)
	return nil
}

// findShim locates the test copy of the real runhcs shim.
func findShim(root string) string {
	for _, p := range []string{
		os.Getenv("WINCRI_RUNHCS_SHIM"),
		filepath.Join(root, "..", "shared", "windows", "containerd-shim-runhcs-v1.exe"),
		"/work/shared/windows/containerd-shim-runhcs-v1.exe",
	} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// unzipFlat unpacks the release zip's top folder into dir.
func unzipFlat(zipPath, dir string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name := filepath.Base(f.Name)
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// command runs a Linux command, its output going to a file: a Wine
// process inherits its parent's Unix stdout, so a serving child would
// keep a pipe reader from ever seeing EOF.
func command(ctx context.Context, dir string, extraEnv []string, name string, args ...string) (string, error) {
	out, err := os.CreateTemp("", "wincri-wine-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	data, err := os.ReadFile(out.Name())
	if err != nil {
		return "", err
	}
	if runErr != nil {
		return string(data), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), runErr, bytes.TrimSpace(data))
	}
	return string(data), nil
}

func (e *env) environ() []string {
	return []string{"WINEPREFIX=" + e.prefix, "WINEDEBUG=" + wineDebug(), "WINEARCH=win64", "WINEDLLOVERRIDES=mscoree,mshtml="}
}

// wine runs a Wine tool (wine, wineserver, wineboot) in the prefix.
// Wine's loader now and then fails to start a program right after
// another of the prefix's processes was killed ("ShellExecuteEx failed:
// Internal error"); such a start, which ran nothing, is tried again.
func (e *env) wine(ctx context.Context, tool string, args ...string) (string, error) {
	for attempt := 1; ; attempt++ {
		out, err := command(ctx, "", e.environ(), tool, args...)
		if err == nil || attempt == 3 || !strings.Contains(out, "ShellExecuteEx failed") || ctx.Err() != nil {
			return out, err
		}
		fmt.Fprintf(os.Stderr, "wine suite: Wine could not start %s %s (attempt %d); trying again\n", tool, strings.Join(args, " "), attempt)
		time.Sleep(time.Second)
	}
}

// run runs a Windows program under Wine and returns its output.
func (e *env) run(ctx context.Context, exe string, args ...string) (string, error) {
	return e.wine(ctx, "wine", append([]string{exe}, args...)...)
}

func (e *env) wineserverKill() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = e.wine(ctx, "wineserver", "-k")
}

// sku is the Windows product type the prefix reports.
type sku string

const (
	server sku = "ServerNT"
	client sku = "WinNT"
)

// emulate makes Windows programs in the prefix see the SKU and build,
// as RtlGetVersion reports them (Wine reads them from the registry when
// a process starts).
func (e *env) emulate(ctx context.Context, s sku, build int) error {
	const (
		version = `HKLM\Software\Microsoft\Windows NT\CurrentVersion`
		product = `HKLM\System\CurrentControlSet\Control\ProductOptions`
	)
	for _, args := range [][]string{
		{"reg", "add", product, "/v", "ProductType", "/t", "REG_SZ", "/d", string(s), "/f"},
		{"reg", "add", version, "/v", "CurrentBuildNumber", "/t", "REG_SZ", "/d", fmt.Sprint(build), "/f"},
		{"reg", "add", version, "/v", "CurrentBuild", "/t", "REG_SZ", "/d", fmt.Sprint(build), "/f"},
		{"reg", "add", version, "/v", "UBR", "/t", "REG_DWORD", "/d", "1", "/f"},
	} {
		if _, err := e.wine(ctx, "wine", args...); err != nil {
			return fmt.Errorf("emulating %s build %d: %w", s, build, err)
		}
	}
	return nil
}

// winPath is the Windows path (drive Z: is /) of a Linux path.
func winPath(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

// driveC is the Linux path of C:\ in the prefix.
func (e *env) driveC(elem ...string) string {
	return filepath.Join(append([]string{e.prefix, "drive_c"}, elem...)...)
}

// exe is the Linux path of a program of the release.
func (e *env) exe(name string) string { return filepath.Join(e.bin, name) }

// wineDebug is WINEDEBUG for the suite's Wine processes: quiet, unless
// WINCRI_WINEDEBUG asks for channels.
func wineDebug() string {
	if v := os.Getenv("WINCRI_WINEDEBUG"); v != "" {
		return v
	}
	return "-all"
}

// reboot restarts the prefix's wineserver, which boots it again: its
// automatic services start.
func (e *env) reboot(ctx context.Context) error {
	if _, err := e.wine(ctx, "wineserver", "-k"); err != nil {
		return err
	}
	if _, err := e.wine(ctx, "wineserver", "-w"); err != nil {
		return err
	}
	if _, err := e.wine(ctx, "wineserver", "-p"); err != nil {
		return err
	}
	_, err := e.wine(ctx, "wineboot", "-r")
	return err
}

// emulateAfter restores the suite's Windows Server 2022 once t is done.
func (e *env) emulateAfter(t *testing.T) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.emulate(ctx, server, 20348); err != nil {
			t.Error(err)
		}
	})
}
