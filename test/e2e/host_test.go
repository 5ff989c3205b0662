//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wincri/wincri/pkg/shim"
)

// runcRoot is where containerd-shim-runc-v2 keeps runc's state for
// wincri's shim namespace.
var runcRoot = filepath.Join("/run/containerd/runc", shim.DefaultNamespace)

type runcContainer struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

// runcContainers lists the containers runc knows in wincri's namespace,
// of every daemon on the machine: callers filter by bundle. `runc list`
// fails when a container of another test goes away while it reads the
// state directory, so a failure is retried.
func runcContainers(t *testing.T) []runcContainer {
	var out []byte
	var err error
	for range 5 {
		var stderr bytes.Buffer
		c := exec.Command("runc", "--root", runcRoot, "list", "--format", "json")
		c.Stderr = &stderr
		if out, err = c.Output(); err == nil {
			break
		}
		err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err != nil {
		t.Errorf("runc list: %v", err)
		return nil
	}
	var list []runcContainer
	if err := json.Unmarshal(bytes.TrimSpace(out), &list); err != nil && len(bytes.TrimSpace(out)) > 0 && string(bytes.TrimSpace(out)) != "null" {
		t.Logf("runc list: %v", err)
	}
	return list
}

// processesMentioning lists the processes whose command line contains
// s, other than this test process.
func processesMentioning(s string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// shimProcess is one running containerd-shim-runc-v2 of a daemon.
type shimProcess struct {
	Pid int
	// ID is the -id it serves: the pod sandbox id.
	ID string
}

// shims lists the shim processes that serve this daemon: their
// -address lies under its state directory.
func (d *daemon) shims() []shimProcess {
	var out []shimProcess
	for _, pid := range processesMentioning(d.state) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		p := shimProcess{Pid: pid}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-id" {
				p.ID = args[i+1]
			}
		}
		out = append(out, p)
	}
	return out
}

// mountsUnder lists the mount points of this mount namespace under dir,
// in mount order.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

func unescapeMountinfo(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// dirNames lists the entries of dir; a missing dir has none.
func dirNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), nil
}
