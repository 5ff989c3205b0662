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

func winImage(id, version string) *Image {
	return &Image{ID: id, Config: ocispec.Image{Platform: ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: version}}}
}

func TestCheckRunnable(t *testing.T) {
	process := Target{Handler: "process", Isolation: config.IsolationProcess}
	tests := []struct {
		name     string
		host     Host
		target   Target
		img      *Image
		mentions []string
	}{
		{name: "process same build", host: winHost(20348), target: process, img: winImage("a", "10.0.20348.1")},
		{name: "process older LTSC on win11", host: winHost(22621), target: process, img: winImage("a", "10.0.20348.1")},
		{name: "process 2019 image on 2022 host", host: winHost(20348), target: process, img: winImage("a", "10.0.17763.1"),
			mentions: []string{"10.0.17763.1", "10.0.20348.1", "hyperv"}},
		{name: "default isolation is process", host: winHost(20348), img: winImage("a", "10.0.17763.1"), mentions: []string{"10.0.17763.1"}},
		{name: "hyperv sandbox image older than host", host: winHost(20348), target: Target{Isolation: config.IsolationHyperV}, img: winImage("p", "10.0.17763.1")},
		{name: "hyperv sandbox image newer than host", host: winHost(17763), target: Target{Isolation: config.IsolationHyperV}, img: winImage("p", "10.0.20348.1"),
			mentions: []string{"10.0.20348.1", "10.0.17763.1"}},
		{name: "hyperv workload matches sandbox", host: winHost(20348), target: Target{Isolation: config.IsolationHyperV, UVM: winversion.Version{Major: 10, Build: 17763, Revision: 1}},
			img: winImage("a", "10.0.17763.5")},
		{name: "hyperv workload differs from sandbox", host: winHost(26100), target: Target{Handler: "hyperv", Isolation: config.IsolationHyperV, UVM: winversion.Version{Major: 10, Build: 17763, Revision: 1}},
			img:      winImage("a", "10.0.20348.5"),
			mentions: []string{"10.0.20348.5", "10.0.17763.1", "utility VM"}},
		{name: "unversioned windows image", host: winHost(20348), target: process, img: winImage("a", "")},
		{name: "linux image on windows", host: winHost(20348), img: &Image{ID: "l", Config: ocispec.Image{Platform: ocispec.Platform{OS: "linux"}}},
			mentions: []string{"linux"}},
		{name: "linux host", host: Host{OS: "linux", Architecture: "amd64"}, img: &Image{ID: "l", Config: ocispec.Image{Platform: ocispec.Platform{OS: "linux"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRunnable(tt.host, tt.target, tt.img, nil)
			if tt.mentions == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
			for _, m := range tt.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}
