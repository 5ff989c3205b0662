//go:build !windows

package image

import (
	"context"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/config"
)

// windowsVariants are the Windows Server LTSC variants of one image, by
// build, as mcr.microsoft.com publishes them.
func windowsVariants(t *testing.T, name string) map[string]v1.Image {
	return map[string]v1.Image{
		"17763": imageOf(t, "windows", "amd64", "10.0.17763.5000", layerOf(t, file{name: "Files/" + name, body: "ltsc2019"})),
		"20348": imageOf(t, "windows", "amd64", "10.0.20348.2000", layerOf(t, file{name: "Files/" + name, body: "ltsc2022"})),
		"26100": imageOf(t, "windows", "amd64", "10.0.26100.100", layerOf(t, file{name: "Files/" + name, body: "ltsc2025"})),
	}
}

// matrixConfig has a process handler, a hyperv handler whose utility
// VMs run the newest build the sandbox image offers, and one pinned to
// Windows Server 2019.
func matrixConfig() *config.Config {
	return &config.Config{Runtimes: map[string]config.Runtime{
		"process":         {Isolation: config.IsolationProcess},
		"hyperv":          {Isolation: config.IsolationHyperV},
		"hyperv-ltsc2019": {Isolation: config.IsolationHyperV, SandboxOSBuild: 17763},
	}}
}

// pauseOfferingAll is a sandbox image record whose index offers the three
// LTSC builds, as registry.k8s.io/pause does.
func pauseOfferingAll() *Image {
	return &Image{ID: "sha256:pause", Offered: []ocispec.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.5000"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.2000"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.26100.100"},
	}}
}

func mismatch(who, offers, suggestion string) string {
	return fmt.Sprintf("no variant suits %s: the image offers Windows builds %s; %s: failed precondition", who, offers, suggestion)
}

// TestPullVariantMatrix pulls, from a registry, indexes offering all
// three LTSC builds or one of them, for each handler on emulated hosts of
// each build. The process rule is hcsshim v0.15.0's
// CheckHostAndContainerCompat (osversion/platform_compat_windows.go); a
// hyperv pod runs images of its utility VM's build, the sandbox image
// variant it boots (containerd v2.4.2 picks a pull's platform by its
// runtime handler: internal/cri/server/images/image_pull.go, PullImage
// with ImageSpec.RuntimeHandler).
func TestPullVariantMatrix(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	all := windowsVariants(t, "app")
	refs := map[string]string{
		"all":   reg.pushIndex(t, "matrix/all:1", indexOf(t, all)),
		"17763": reg.pushIndex(t, "matrix/ltsc2019:1", indexOf(t, map[string]v1.Image{"17763": all["17763"]})),
		"20348": reg.pushIndex(t, "matrix/ltsc2022:1", indexOf(t, map[string]v1.Image{"20348": all["20348"]})),
		"26100": reg.pushIndex(t, "matrix/ltsc2025:1", indexOf(t, map[string]v1.Image{"26100": all["26100"]})),
	}
	const (
		newer        = "no handler on this host can run it: every build is newer than the host's"
		use2019      = `runtime handler "hyperv-ltsc2019" can run it`
		useOthers    = `runtime handlers "hyperv", "process" can run it`
		process17763 = `runtime handler "process" (process isolation on host build 10.0.17763.1)`
		process20348 = `runtime handler "process" (process isolation on host build 10.0.20348.1)`
		process26100 = `runtime handler "process" (process isolation on host build 10.0.26100.1)`
		hyperv17763  = `runtime handler "hyperv" (utility VM build 10.0.17763.5000 on host build 10.0.17763.1)`
		hyperv20348  = `runtime handler "hyperv" (utility VM build 10.0.20348.2000 on host build 10.0.20348.1)`
		hyperv26100  = `runtime handler "hyperv" (utility VM build 10.0.26100.100 on host build 10.0.26100.1)`
		vm2019On1776 = `runtime handler "hyperv-ltsc2019" (utility VM build 10.0.17763.0 on host build 10.0.17763.1)`
		vm2019On2034 = `runtime handler "hyperv-ltsc2019" (utility VM build 10.0.17763.0 on host build 10.0.20348.1)`
		vm2019On2610 = `runtime handler "hyperv-ltsc2019" (utility VM build 10.0.17763.0 on host build 10.0.26100.1)`
	)
	// want, per offered set ("all", or the one build offered): the build
	// of the variant pulled, or the error after "image <ref>: ".
	tests := []struct {
		host    uint32
		handler string
		want    map[string]string
	}{
		{17763, "process", map[string]string{"all": "17763", "17763": "17763",
			"20348": mismatch(process17763, "10.0.20348.2000", newer), "26100": mismatch(process17763, "10.0.26100.100", newer)}},
		{17763, "hyperv", map[string]string{"all": "17763", "17763": "17763",
			"20348": mismatch(hyperv17763, "10.0.20348.2000", newer), "26100": mismatch(hyperv17763, "10.0.26100.100", newer)}},
		{17763, "hyperv-ltsc2019", map[string]string{"all": "17763", "17763": "17763",
			"20348": mismatch(vm2019On1776, "10.0.20348.2000", newer), "26100": mismatch(vm2019On1776, "10.0.26100.100", newer)}},

		{20348, "process", map[string]string{"all": "20348", "17763": mismatch(process20348, "10.0.17763.5000", use2019),
			"20348": "20348", "26100": mismatch(process20348, "10.0.26100.100", newer)}},
		{20348, "hyperv", map[string]string{"all": "20348", "17763": mismatch(hyperv20348, "10.0.17763.5000", use2019),
			"20348": "20348", "26100": mismatch(hyperv20348, "10.0.26100.100", newer)}},
		{20348, "hyperv-ltsc2019", map[string]string{"all": "17763", "17763": "17763",
			"20348": mismatch(vm2019On2034, "10.0.20348.2000", useOthers), "26100": mismatch(vm2019On2034, "10.0.26100.100", newer)}},

		{26100, "process", map[string]string{"all": "26100", "17763": mismatch(process26100, "10.0.17763.5000", use2019),
			"20348": "20348", "26100": "26100"}},
		{26100, "hyperv", map[string]string{"all": "26100", "17763": mismatch(hyperv26100, "10.0.17763.5000", use2019),
			"20348": "20348", "26100": "26100"}},
		{26100, "hyperv-ltsc2019", map[string]string{"all": "17763", "17763": "17763",
			"20348": mismatch(vm2019On2610, "10.0.20348.2000", useOthers), "26100": mismatch(vm2019On2610, "10.0.26100.100", useOthers)}},
	}
	cfg := matrixConfig()
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s", tt.host, tt.handler), func(t *testing.T) {
			host := winHost(tt.host)
			target, err := TargetFor(host, tt.handler, cfg.Runtimes[tt.handler], pauseOfferingAll())
			require.NoError(t, err)
			handlers := Targets(cfg, host, pauseOfferingAll())
			s := newTestService(t, host, nil)
			for _, offered := range []string{"all", "17763", "20348", "26100"} {
				want := tt.want[offered]
				id, err := s.Pull(context.Background(), refs[offered], PullOptions{Target: target, Handlers: handlers})
				if v, ok := all[want]; ok {
					require.NoError(t, err, "offered %s", offered)
					assert.Equal(t, configDigest(t, v), id, "offered %s: variant %s", offered, want)
					continue
				}
				require.ErrorIs(t, err, errdefs.ErrFailedPrecondition, "offered %s", offered)
				assert.EqualError(t, err, "image "+refs[offered]+": "+want, "offered %s", offered)
			}
		})
	}
}

func TestTargetForSandboxOSBuildNewerThanHost(t *testing.T) {
	rt := config.Runtime{Isolation: config.IsolationHyperV, SandboxOSBuild: 26100}
	_, err := TargetFor(winHost(20348), "hyperv-ltsc2025", rt, nil)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	assert.EqualError(t, err, "runtimes.hyperv-ltsc2025.sandbox_os_build: build 26100 is newer than host build 10.0.20348.1, which cannot boot it: failed precondition")
	assert.Len(t, Targets(&config.Config{Runtimes: map[string]config.Runtime{"x": rt}}, winHost(20348), nil), 0)

	// Without the sandbox image, a hyperv handler's build is left to the
	// pull: the newest the host can boot.
	tg, err := TargetFor(winHost(26100), "hyperv", config.Runtime{Isolation: config.IsolationHyperV}, nil)
	require.NoError(t, err)
	assert.Zero(t, tg.UVM)
}

// TestResolveForPullsOnlyTheMissingVariant is CreateContainer's path: the
// image is present in the variant a process pod pulled; a pod of the
// hyperv-ltsc2019 handler gets the 17763 variant pulled then, and only
// that one; afterwards each handler finds its own variant present.
func TestResolveForPullsOnlyTheMissingVariant(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	variants := windowsVariants(t, "app")
	ref := reg.pushIndex(t, "variants/app:1", indexOf(t, variants))
	single := reg.push(t, "variants/single:1", variants["26100"])
	host := winHost(26100)
	cfg := matrixConfig()
	handlers := Targets(cfg, host, pauseOfferingAll())
	target := func(name string) Target {
		tg, err := TargetFor(host, name, cfg.Runtimes[name], pauseOfferingAll())
		require.NoError(t, err)
		return tg
	}
	s := newTestService(t, host, nil)
	ctx := context.Background()

	id, err := s.Pull(ctx, ref, PullOptions{Target: target("process"), Handlers: handlers})
	require.NoError(t, err)
	require.Equal(t, configDigest(t, variants["26100"]), id)
	img, err := s.ResolveFor(ctx, ref, target("process"), handlers)
	require.NoError(t, err)
	assert.Equal(t, id, img.ID, "the present variant suits the process pod")
	assert.Len(t, img.Offered, 3, "the index's platforms are recorded")

	// By image id too, as kubelet names the image in CreateContainer.
	old, err := s.ResolveFor(ctx, id, target("hyperv-ltsc2019"), handlers)
	require.NoError(t, err)
	assert.Equal(t, configDigest(t, variants["17763"]), old.ID)
	assert.Equal(t, "10.0.17763.5000", old.Config.OSVersion)
	assert.Equal(t, []string{ref}, old.RepoTags, "a variant pulled by digest shares its sibling's tag")
	for build, v := range variants {
		layers, err := v.Layers()
		require.NoError(t, err)
		d, err := layers[0].Digest()
		require.NoError(t, err)
		want := map[string]int{"17763": 1, "20348": 0, "26100": 1}[build]
		assert.Equal(t, want, reg.blobGetsOf(d.String()), "layer of %s downloaded %d times", build, want)
	}

	// Each handler now finds its variant present, whichever the tag
	// points at.
	for handler, want := range map[string]string{"process": "26100", "hyperv": "26100", "hyperv-ltsc2019": "17763"} {
		got, err := s.ResolveFor(ctx, ref, target(handler), handlers)
		require.NoError(t, err, handler)
		assert.Equal(t, configDigest(t, variants[want]), got.ID, handler)
	}
	imgs, err := s.List(ctx)
	require.NoError(t, err)
	assert.Len(t, imgs, 2, "no other variant was pulled")

	// Removing one variant leaves the tag to the other.
	require.NoError(t, s.Remove(ctx, old.ID))
	got, err := s.Status(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	assert.Equal(t, []string{ref}, got.RepoTags)

	// A single-manifest image offers nothing else.
	_, err = s.Pull(ctx, single, PullOptions{})
	require.NoError(t, err)
	_, err = s.ResolveFor(ctx, single, target("hyperv-ltsc2019"), handlers)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	assert.EqualError(t, err, "image "+configDigest(t, variants["26100"])+" is Windows build 10.0.26100.100, and "+
		mismatch(`runtime handler "hyperv-ltsc2019" (utility VM build 10.0.17763.0 on host build 10.0.26100.1)`, "10.0.26100.100",
			`runtime handlers "hyperv", "process" can run it`))

	_, err = s.ResolveFor(ctx, reg.host+"/variants/absent:1", target("process"), handlers)
	assert.ErrorIs(t, err, errdefs.ErrNotFound)
}
