package cri

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/sandbox"
)

// Where a container's processes live, in ContainerStatus's verbose info:
// a process (or Linux) container's host PID; for a hyperv container the
// PID inside the utility VM and the host PID of the VM's worker process,
// labelled so that nobody looks for the in-VM PID on the host (containerd
// reports it as "pid": internal/cri/server/container_status.go,
// toCRIContainerInfo).
func TestContainerVerboseInfoSaysWhereProcessesLive(t *testing.T) {
	worker := func(uvmID string) (uint32, error) {
		if uvmID == "pod1@vm" {
			return 4242, nil
		}
		return 0, errors.New("utility VM gone")
	}
	tests := []struct {
		name string
		c    sandbox.Container
		want map[string]any
	}{
		{
			name: "process isolation",
			c:    sandbox.Container{ContainerRecord: sandbox.ContainerRecord{PodID: "pod1", Pid: 1234}, Isolation: config.IsolationProcess},
			want: map[string]any{"pid": float64(1234)},
		},
		{
			name: "hyperv",
			c: sandbox.Container{ContainerRecord: sandbox.ContainerRecord{PodID: "pod1", Pid: 8}, Isolation: config.IsolationHyperV,
				UVMID: "pod1@vm"},
			want: map[string]any{"utilityVM": map[string]any{"id": "pod1@vm", "pidInVM": float64(8), "workerProcessHostPid": float64(4242)}},
		},
		{
			name: "hyperv, worker not found",
			c: sandbox.Container{ContainerRecord: sandbox.ContainerRecord{PodID: "pod2", Pid: 8}, Isolation: config.IsolationHyperV,
				UVMID: "pod2@vm"},
			want: map[string]any{"utilityVM": map[string]any{"id": "pod2@vm", "pidInVM": float64(8), "workerProcessHostPid": float64(0),
				"workerProcessError": "utility VM gone"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := containerVerboseInfo(tt.c, worker)
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(info["info"]), &got))
			for k, v := range tt.want {
				assert.Equal(t, v, got[k], k)
			}
			if tt.c.Isolation == config.IsolationHyperV {
				assert.NotContains(t, got, "pid", "no host process has the in-VM PID")
			} else {
				assert.NotContains(t, got, "utilityVM")
			}
		})
	}
}
