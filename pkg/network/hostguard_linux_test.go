package network

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostGuard undoes, at the end of a test, what CNI plugins do to the host
// beyond a pod's lifetime: the bridge device, iptables chains that
// portmap and ipMasq leave behind, and net.ipv4.ip_forward, which bridge
// with isGateway turns on.
type hostGuard struct {
	bridges      []string
	ipForward    []byte
	chainsBefore map[string]map[string]bool
}

var guardedTables = []string{"nat", "filter"}

const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

func newHostGuard(t testing.TB, bridges ...string) *hostGuard {
	t.Helper()
	g := &hostGuard{bridges: bridges, chainsBefore: map[string]map[string]bool{}}
	g.ipForward, _ = os.ReadFile(ipForwardPath)
	for _, table := range guardedTables {
		g.chainsBefore[table] = chains(t, table)
	}
	t.Cleanup(func() { g.restore(t) })
	return g
}

// chains lists the user chains of an iptables table.
func chains(t testing.TB, table string) map[string]bool {
	t.Helper()
	out, err := exec.Command("iptables", "-w", "-t", table, "-S").Output()
	if err != nil {
		t.Logf("iptables -t %s -S: %v", table, err)
		return nil
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "-N" {
			set[f[1]] = true
		}
	}
	return set
}

func (g *hostGuard) restore(t testing.TB) {
	for _, br := range g.bridges {
		if _, err := os.Stat(filepath.Join("/sys/class/net", br)); err == nil {
			if out, err := exec.Command("ip", "link", "del", br).CombinedOutput(); err != nil {
				t.Logf("ip link del %s: %v: %s", br, err, out)
			}
		}
	}
	for _, table := range guardedTables {
		g.removeNewChains(t, table)
	}
	if g.ipForward != nil {
		if err := os.WriteFile(ipForwardPath, g.ipForward, 0o644); err != nil {
			t.Logf("restore ip_forward: %v", err)
		}
	}
}

// removeNewChains deletes the chains of table that appeared during the
// test, and the rules that jump to them.
func (g *hostGuard) removeNewChains(t testing.TB, table string) {
	before := g.chainsBefore[table]
	if before == nil {
		return
	}
	out, err := exec.Command("iptables", "-w", "-t", table, "-S").Output()
	if err != nil {
		return
	}
	var added []string
	for c := range chains(t, table) {
		if !before[c] {
			added = append(added, c)
		}
	}
	if len(added) == 0 {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		for _, c := range added {
			if strings.HasSuffix(line, " -j "+c) || strings.Contains(line, " -j "+c+" ") {
				// The shell undoes iptables -S quoting of comments.
				cmd := "iptables -w -t " + table + " -D " + strings.TrimPrefix(line, "-A ")
				if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
					t.Logf("%s: %v: %s", cmd, err, out)
				}
			}
		}
	}
	for _, c := range added {
		_ = exec.Command("iptables", "-w", "-t", table, "-F", c).Run()
	}
	for _, c := range added {
		if out, err := exec.Command("iptables", "-w", "-t", table, "-X", c).CombinedOutput(); err != nil {
			t.Logf("iptables -t %s -X %s: %v: %s", table, c, err, out)
		}
	}
}
