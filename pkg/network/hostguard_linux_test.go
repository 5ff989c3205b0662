package network

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostGuard undoes, at the end of a test, what CNI plugins do to the host
// beyond a pod's lifetime: the bridge device, the CNI-HOSTPORT-* chains
// portmap leaves behind, and net.ipv4.ip_forward, which bridge with
// isGateway turns on. Per-pod chains are DEL's job, which the tests
// check. Pods of other CNI users on the machine (a wincri someone runs,
// another package's tests) must keep working, so the shared chains and
// ip_forward are left alone while rules of other networks exist.
type hostGuard struct {
	bridges      []string
	networks     map[string]bool
	ipForward    []byte
	chainsBefore map[string]bool
}

const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// portmapChains are the chains portmap creates once and never removes.
var portmapChains = []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}

func newHostGuard(t testing.TB, networks []string, bridges ...string) *hostGuard {
	t.Helper()
	g := &hostGuard{bridges: bridges, networks: map[string]bool{}}
	for _, n := range networks {
		g.networks[n] = true
	}
	g.ipForward, _ = os.ReadFile(ipForwardPath)
	g.chainsBefore = natChains(t)
	t.Cleanup(func() { g.restore(t) })
	return g
}

// natChains lists the user chains of the nat table.
func natChains(t testing.TB) map[string]bool {
	t.Helper()
	out, err := exec.Command("iptables", "-w", "-t", "nat", "-S").Output()
	if err != nil {
		t.Logf("iptables -t nat -S: %v", err)
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

// cniNameRE finds the network name in the comments bridge and portmap
// put on their per-pod rules.
var cniNameRE = regexp.MustCompile(`name: \\"([^\\"]+)\\"`)

// othersActive reports whether rules of networks other than the test's
// exist.
func (g *hostGuard) othersActive(t testing.TB) bool {
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Logf("iptables-save: %v", err)
		return true
	}
	for _, m := range cniNameRE.FindAllStringSubmatch(string(out), -1) {
		if !g.networks[m[1]] {
			return true
		}
	}
	return false
}

func (g *hostGuard) restore(t testing.TB) {
	for _, br := range g.bridges {
		if _, err := os.Stat(filepath.Join("/sys/class/net", br)); err == nil {
			if out, err := exec.Command("ip", "link", "del", br).CombinedOutput(); err != nil {
				t.Logf("ip link del %s: %v: %s", br, err, out)
			}
		}
	}
	if g.othersActive(t) {
		t.Log("other CNI pods run on this host: ip_forward and portmap's chains stay")
		return
	}
	g.removePortmapChains(t)
	if g.ipForward != nil {
		if err := os.WriteFile(ipForwardPath, g.ipForward, 0o644); err != nil {
			t.Logf("restore ip_forward: %v", err)
		}
	}
}

// removePortmapChains deletes portmap's chains that appeared during the
// test, and the rules that jump to them.
func (g *hostGuard) removePortmapChains(t testing.TB) {
	if g.chainsBefore == nil {
		return
	}
	now := natChains(t)
	var added []string
	for _, c := range portmapChains {
		if now[c] && !g.chainsBefore[c] {
			added = append(added, c)
		}
	}
	if len(added) == 0 {
		return
	}
	out, err := exec.Command("iptables", "-w", "-t", "nat", "-S").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		for _, c := range added {
			if strings.HasSuffix(line, " -j "+c) || strings.Contains(line, " -j "+c+" ") {
				// The shell undoes iptables -S quoting of comments.
				cmd := "iptables -w -t nat -D " + strings.TrimPrefix(line, "-A ")
				if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
					t.Logf("%s: %v: %s", cmd, err, out)
				}
			}
		}
	}
	for _, c := range added {
		_ = exec.Command("iptables", "-w", "-t", "nat", "-F", c).Run()
	}
	for _, c := range added {
		if out, err := exec.Command("iptables", "-w", "-t", "nat", "-X", c).CombinedOutput(); err != nil {
			t.Logf("iptables -t nat -X %s: %v: %s", c, err, out)
		}
	}
}
