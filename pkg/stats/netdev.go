package stats

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// ParseNetDev reads the per-interface counters of a /proc/net/dev file,
// as seen inside a pod's network namespace. The loopback interface is
// left out: kubelet reports pod traffic, not what a pod says to itself.
func ParseNetDev(r io.Reader) ([]Interface, error) {
	var out []Interface
	sc := bufio.NewScanner(r)
	for n := 0; sc.Scan(); n++ {
		if n < 2 {
			continue // two header lines
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			return nil, fmt.Errorf("net/dev line %d: no interface name: %w", n+1, errdefs.ErrInvalidArgument)
		}
		name = strings.TrimSpace(name)
		fields := strings.Fields(rest)
		if len(fields) < 16 {
			return nil, fmt.Errorf("net/dev line %d: %d counters, want 16: %w", n+1, len(fields), errdefs.ErrInvalidArgument)
		}
		var v [16]uint64
		for i := range v {
			x, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("net/dev line %d: %v: %w", n+1, err, errdefs.ErrInvalidArgument)
			}
			v[i] = x
		}
		if name == "lo" {
			continue
		}
		// Receive: bytes packets errs drop fifo frame compressed
		// multicast; transmit: bytes packets errs drop ...
		out = append(out, Interface{
			Name:    name,
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
