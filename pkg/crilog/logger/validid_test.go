package logger

import (
	"regexp"
	"strings"
	"testing"
)

// idPattern is what validID implements.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func TestValidIDMatchesPattern(t *testing.T) {
	ids := []string{
		"", "a", "Z9", "0abc", "abc_def.ghi-jkl", "_a", ".a", "-a", "a/b", "a b", "a\x00", "é", "a\n",
		strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129),
		"3f2a9c1e7b4d5a6f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f",
	}
	for _, id := range ids {
		if got, want := validID(id), idPattern.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, the pattern says %v", id, got, want)
		}
	}
}

func FuzzValidID(f *testing.F) {
	f.Add("abc-1.2_3")
	f.Add("-x")
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), idPattern.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, the pattern says %v", id, got, want)
		}
	})
}
