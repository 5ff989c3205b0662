package cri

import "strings"

// splitComma splits a comma-separated list, dropping empty items and
// surrounding space.
func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
