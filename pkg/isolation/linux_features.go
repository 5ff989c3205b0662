package isolation

import (
	"os"
	"strconv"
	"strings"
)

// RecursiveReadOnlyMountsSupported reports whether the node's kernel can
// make a bind mount read-only recursively (mount_setattr, Linux 5.12),
// which runc needs for a CRI mount with recursive_read_only. kubelet only
// asks for one when the runtime handler reports the feature, so this is
// what the Status RPC should report.
func RecursiveReadOnlyMountsSupported() bool {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return false
	}
	return kernelAtLeast(strings.TrimSpace(string(data)), 5, 12)
}

// kernelAtLeast compares a release such as "6.1.0-18-amd64" with
// major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	minStr := parts[1]
	if i := strings.IndexFunc(minStr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minStr = minStr[:i]
	}
	mnr, err2 := strconv.Atoi(minStr)
	if err1 != nil || err2 != nil {
		return false
	}
	return maj > major || (maj == major && mnr >= minor)
}
