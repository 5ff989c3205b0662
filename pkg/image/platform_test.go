package image

import (
	"testing"

	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/winversion"
)

func manifest(name, os, arch, variant, osVersion string) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType:   ocispec.MediaTypeImageManifest,
		Annotations: map[string]string{"name": name},
		Platform:    &ocispec.Platform{OS: os, Architecture: arch, Variant: variant, OSVersion: osVersion},
	}
}

func winHost(build uint32) Host {
	return Host{OS: "windows", Architecture: "amd64", OSVersion: winversion.Version{Major: 10, Build: build, Revision: 1}}
}

func TestSelectManifest(t *testing.T) {
	index := []ocispec.Descriptor{
		manifest("linux-amd64", "linux", "amd64", "", ""),
		manifest("linux-arm64", "linux", "arm64", "v8", ""),
		manifest("linux-armv6", "linux", "arm", "v6", ""),
		manifest("linux-armv7", "linux", "arm", "v7", ""),
		manifest("win-2019", "windows", "amd64", "", "10.0.17763.5000"),
		manifest("win-2022-old", "windows", "amd64", "", "10.0.20348.100"),
		manifest("win-2022", "windows", "amd64", "", "10.0.20348.2000"),
		manifest("win-2025", "windows", "amd64", "", "10.0.26100.1"),
	}
	tests := []struct {
		name string
		host Host
		iso  config.Isolation
		want string
	}{
		{"linux amd64", Host{OS: "linux", Architecture: "amd64"}, "", "linux-amd64"},
		{"linux arm64 no variant", Host{OS: "linux", Architecture: "arm64"}, "", "linux-arm64"},
		{"linux arm v7 exact", Host{OS: "linux", Architecture: "arm", Variant: "v7"}, "", "linux-armv7"},
		{"2019 host process", winHost(17763), config.IsolationProcess, "win-2019"},
		{"2022 host process picks newest revision", winHost(20348), config.IsolationProcess, "win-2022"},
		{"win11 host runs 2022", winHost(22621), config.IsolationProcess, "win-2022"},
		{"2025 host process", winHost(26100), config.IsolationProcess, "win-2025"},
		{"2025 host hyperv prefers compatible", winHost(26100), config.IsolationHyperV, "win-2025"},
		{"1809 host hyperv", winHost(17763), config.IsolationHyperV, "win-2019"},
		{"default isolation is process", winHost(20348), "", "win-2022"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectManifest(tt.host, Target{Isolation: tt.iso}, nil, index)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Annotations["name"])
		})
	}
}

func TestSelectManifestHyperVFallsBackToOlderBuild(t *testing.T) {
	index := []ocispec.Descriptor{
		manifest("win-2019", "windows", "amd64", "", "10.0.17763.1"),
		manifest("win-2016", "windows", "amd64", "", "10.0.14393.1"),
		manifest("win-next", "windows", "amd64", "", "10.0.30000.1"),
	}
	got, err := SelectManifest(winHost(20348), Target{Isolation: config.IsolationHyperV}, nil, index)
	require.NoError(t, err)
	assert.Equal(t, "win-2019", got.Annotations["name"])

	_, err = SelectManifest(winHost(20348), Target{Isolation: config.IsolationProcess}, nil, index)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "10.0.20348.1")
	assert.Contains(t, err.Error(), "10.0.17763.1")
	assert.Contains(t, err.Error(), "hyperv")
}

func TestSelectManifestErrors(t *testing.T) {
	tests := []struct {
		name     string
		host     Host
		iso      config.Isolation
		index    []ocispec.Descriptor
		mentions []string
		kind     error
	}{
		{
			name:     "no os/arch",
			host:     Host{OS: "linux", Architecture: "s390x"},
			index:    []ocispec.Descriptor{manifest("a", "linux", "amd64", "", "")},
			mentions: []string{"linux/s390x", "linux/amd64"},
			kind:     errdefs.ErrNotFound,
		},
		{
			name:     "only newer windows builds",
			host:     winHost(17763),
			iso:      config.IsolationHyperV,
			index:    []ocispec.Descriptor{manifest("a", "windows", "amd64", "", "10.0.20348.1")},
			mentions: []string{"10.0.17763.1", "10.0.20348.1", "hyperv isolation", "newer than the host's"},
			kind:     errdefs.ErrFailedPrecondition,
		},
		{
			name:     "2025 host and 2019 image under process isolation",
			host:     winHost(26100),
			iso:      config.IsolationProcess,
			index:    []ocispec.Descriptor{manifest("a", "windows", "amd64", "", "10.0.17763.1")},
			mentions: []string{"10.0.26100.1", "10.0.17763.1", "process isolation", "hyperv runtime handler with sandbox_os_build = 17763"},
			kind:     errdefs.ErrFailedPrecondition,
		},
		{
			name:     "attestation only",
			host:     Host{OS: "linux", Architecture: "amd64"},
			index:    []ocispec.Descriptor{{Platform: &ocispec.Platform{OS: "unknown", Architecture: "unknown"}}, {}},
			mentions: []string{"unknown/unknown"},
			kind:     errdefs.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SelectManifest(tt.host, Target{Isolation: tt.iso}, nil, tt.index)
			require.ErrorIs(t, err, tt.kind)
			for _, m := range tt.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

func TestSelectManifestUnversionedWindowsIsLastResort(t *testing.T) {
	index := []ocispec.Descriptor{
		manifest("unversioned", "windows", "amd64", "", ""),
		manifest("win-2022", "windows", "amd64", "", "10.0.20348.1"),
	}
	got, err := SelectManifest(winHost(20348), Target{}, nil, index)
	require.NoError(t, err)
	assert.Equal(t, "win-2022", got.Annotations["name"])
	got, err = SelectManifest(winHost(17763), Target{}, nil, index)
	require.NoError(t, err)
	assert.Equal(t, "unversioned", got.Annotations["name"])
}

func TestCheckConfigPlatform(t *testing.T) {
	cfg := &ocispec.Image{Platform: ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1"}}
	require.NoError(t, CheckConfigPlatform(winHost(17763), Target{}, nil, cfg))
	require.NoError(t, CheckConfigPlatform(winHost(20348), Target{Isolation: config.IsolationHyperV}, nil, cfg))
	assert.ErrorIs(t, CheckConfigPlatform(winHost(20348), Target{}, nil, cfg), errdefs.ErrFailedPrecondition)
	assert.ErrorIs(t, CheckConfigPlatform(Host{OS: "linux", Architecture: "amd64"}, Target{}, nil, cfg), errdefs.ErrNotFound)
}
