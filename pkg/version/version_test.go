package version

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"released module", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"no vcs", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
		{"clean revision", debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "false"}}}, "0.0.0-0123456789ab"},
		{"dirty revision", debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}, "0.0.0-abc-dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, fromBuildInfo(&tt.info))
		})
	}
}

func TestShimFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		deps []*debug.Module
		want string
	}{
		{name: "hcsshim", deps: []*debug.Module{{Path: "k8s.io/klog/v2", Version: "v2.1.0"}, {Path: "github.com/Microsoft/hcsshim", Version: "v0.15.0"}}, want: "v0.15.0"},
		{name: "replaced", deps: []*debug.Module{{Path: "github.com/Microsoft/hcsshim", Version: "v0.15.0", Replace: &debug.Module{Path: "../hcsshim", Version: "v0.15.1-fix"}}}, want: "v0.15.1-fix"},
		{name: "absent", want: "(unknown)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, shimFromBuildInfo(&debug.BuildInfo{Deps: tt.deps}))
		})
	}
}
