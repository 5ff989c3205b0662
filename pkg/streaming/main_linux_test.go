package streaming_test

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/wincri/wincri/pkg/pause"
)

// staticEnv marks the static copy of this test binary.
const staticEnv = "WINCRI_STREAMING_TEST_STATIC"

// TestMain lets this binary serve as the pods' pause process, as the
// wincri binary does: the sandbox manager installs its own executable
// into the pause rootfs, which holds no C library. So when it runs as
// root and is linked dynamically (cgo, the default), it rebuilds itself
// with CGO_ENABLED=0 and runs that copy in its place.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "pause" {
		os.Exit(pause.Run())
	}
	if os.Geteuid() == 0 && os.Getenv(staticEnv) == "" && dynamic() {
		if err := execStatic(); err != nil {
			fmt.Fprintln(os.Stderr, "streaming tests: running a static copy:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if dir := os.Getenv(staticEnv); dir != "" {
		// The static copy removes the directory it was built into: exec
		// left no one else to.
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

func dynamic() bool {
	self, err := os.Executable()
	if err != nil {
		return false
	}
	f, err := elf.Open(self)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// execStatic builds this package's tests with CGO_ENABLED=0 and execs
// the result with the same arguments; it returns only on failure.
func execStatic() error {
	dir, err := os.MkdirTemp("", "wst-bin")
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "streaming.test")
	args := []string{"test", "-c", "-o", bin}
	if mode := testing.CoverMode(); mode != "" {
		// Built for coverage (go test -cover): the copy must be too, or it
		// refuses the coverage flags go test passes on.
		args = append(args, "-cover", "-covermode="+mode)
	}
	c := exec.Command("go", append(args, "github.com/wincri/wincri/pkg/streaming")...)
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	env := append(os.Environ(), staticEnv+"="+dir)
	return syscall.Exec(bin, append([]string{bin}, os.Args[1:]...), env)
}
