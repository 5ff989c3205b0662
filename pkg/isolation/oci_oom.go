package isolation

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procSelfOOMScoreAdj is where Linux reports a process's own
// oom_score_adj.
const procSelfOOMScoreAdj = "/proc/self/oom_score_adj"

// DaemonOOMScoreAdj reads wincri's own oom_score_adj: the floor to pass
// to ClampOOMScoreAdj on nodes where wincri lacks CAP_SYS_RESOURCE.
func DaemonOOMScoreAdj() (int, error) {
	return readOOMScoreAdj(procSelfOOMScoreAdj)
}

func readOOMScoreAdj(p string) (int, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("reading the daemon's oom_score_adj: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("parsing oom_score_adj %q: %w", strings.TrimSpace(string(data)), err)
	}
	return v, nil
}
