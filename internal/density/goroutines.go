package density

import (
	"fmt"
	"strconv"
	"strings"
)

// GoroutineCount reads the goroutine count from a Go process's
// /debug/pprof/goroutine?debug=1 page, whose first line reads
// "goroutine profile: total N".
func GoroutineCount(profile string) (int, error) {
	first, _, _ := strings.Cut(profile, "\n")
	f := strings.Fields(first)
	if len(f) == 0 || !strings.HasPrefix(first, "goroutine profile:") {
		return 0, fmt.Errorf("unexpected goroutine profile %q", first)
	}
	return strconv.Atoi(f[len(f)-1])
}
