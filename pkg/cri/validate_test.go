package cri

import (
	"testing"

	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestValidateContainerMounts(t *testing.T) {
	img := &runtime.ImageSpec{Image: "registry.test/data:1"}
	tests := []struct {
		name    string
		mounts  []*runtime.Mount
		wantErr string
	}{
		{name: "host path", mounts: []*runtime.Mount{{ContainerPath: "/data", HostPath: "/srv/data"}}},
		{name: "read-only image volume", mounts: []*runtime.Mount{{ContainerPath: "/data", Image: img, Readonly: true}}},
		{
			// kubelet mounts image volumes read-only; containerd refuses a
			// writable one (internal/cri/server/container_create.go), and
			// critest's "should reject Image Volume with Readonly set to
			// false" expects the refusal.
			name:    "writable image volume",
			mounts:  []*runtime.Mount{{ContainerPath: "/ok", HostPath: "/srv"}, {ContainerPath: "/data", Image: img}},
			wantErr: `config.mounts[1] "/data": an image volume must be read-only`,
		},
		{name: "relative host path", mounts: []*runtime.Mount{{ContainerPath: "/data", HostPath: "srv"}}, wantErr: "config.mounts[0].host_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &runtime.ContainerConfig{
				Metadata: &runtime.ContainerMetadata{Name: "app"},
				Image:    &runtime.ImageSpec{Image: "busybox"},
				Mounts:   tt.mounts,
			}
			err := validateContainerConfig(cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			checkRejection(t, err, tt.wantErr)
		})
	}
}
