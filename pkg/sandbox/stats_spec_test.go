package sandbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/pkg/stats"
)

func TestSpecCache(t *testing.T) {
	var c specCache
	ctx := testlog.New(t).Context()
	steps := []struct {
		name string
		id   string
		raw  string
		want *stats.Spec
	}{
		{"no spec", "a", "", nil},
		{"first read", "a", `{"linux":{"resources":{"cpu":{"shares":2}}}}`, &stats.Spec{Linux: true, CPUShares: 2}},
		{"same spec", "a", `{"linux":{"resources":{"cpu":{"shares":2}}}}`, &stats.Spec{Linux: true, CPUShares: 2}},
		{"updated resources", "a", `{"linux":{"resources":{"cpu":{"shares":512}}}}`, &stats.Spec{Linux: true, CPUShares: 512}},
		{"another container", "b", `{"windows":{"resources":{"cpu":{"shares":100}}}}`, &stats.Spec{CPUShares: 100}},
		{"malformed", "c", `{`, nil},
	}
	for _, s := range steps {
		assert.Equal(t, s.want, c.get(ctx, s.id, []byte(s.raw)), s.name)
	}
	require.Len(t, c.entries, 2)
	c.forget(func(id string) bool { return id == "b" })
	assert.Len(t, c.entries, 1)
	assert.Contains(t, c.entries, "b")
}
