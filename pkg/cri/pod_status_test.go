package cri

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/sandbox"
)

// checkingRuntime counts the checks asked for.
type checkingRuntime struct {
	fakeRuntime
	checks int
}

func (f *checkingRuntime) CheckPodNetworkSoon(string) { f.checks++ }

// A verbose PodSandboxStatus reports the pod network's last CHECK as a
// condition, and asks for a first check of a pod never checked; a plain
// one, kubelet's, asks for none.
func TestPodSandboxStatusNetworkCondition(t *testing.T) {
	at := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		check sandbox.NetworkCheck
		want  *podCondition
	}{
		{"healthy", sandbox.NetworkCheck{At: at, Supported: true, Healthy: true},
			&podCondition{Type: "PodNetworkHealthy", Status: true, Reason: "CNICheckPassed", LastCheckTime: "2026-12-06T07:00:00Z"}},
		{"broken", sandbox.NetworkCheck{At: at, Supported: true, Message: "Interface name eth0 not found"},
			&podCondition{Type: "PodNetworkHealthy", Status: false, Reason: "CNICheckFailed", Message: "Interface name eth0 not found", LastCheckTime: "2026-12-06T07:00:00Z"}},
		{"not supported", sandbox.NetworkCheck{At: at, Healthy: true, Message: "the pod uses the node's network"},
			&podCondition{Type: "PodNetworkHealthy", Status: true, Reason: "CNICheckNotSupported", Message: "the pod uses the node's network", LastCheckTime: "2026-12-06T07:00:00Z"}},
		{"never checked", sandbox.NetworkCheck{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &checkingRuntime{}
			rt.pods = []sandbox.Pod{{PodRecord: sandbox.PodRecord{ID: "p1", State: sandbox.PodReady}, Config: &runtime.PodSandboxConfig{}, NetworkCheck: tt.check}}
			env := newTestEnv(t, Options{Runtime: rt}, true)

			_, err := env.runtime.PodSandboxStatus(ctx(t), &runtime.PodSandboxStatusRequest{PodSandboxId: "p1"})
			require.NoError(t, err)
			assert.Zero(t, rt.checks, "kubelet's plain status runs no CHECK")

			resp, err := env.runtime.PodSandboxStatus(ctx(t), &runtime.PodSandboxStatusRequest{PodSandboxId: "p1", Verbose: true})
			require.NoError(t, err)
			if tt.check.At.IsZero() {
				assert.Equal(t, 1, rt.checks, "a first check is asked for")
			} else {
				assert.Zero(t, rt.checks, "the last check is reported, none run")
			}
			var info struct {
				Conditions []podCondition `json:"conditions"`
			}
			require.NoError(t, json.Unmarshal([]byte(resp.GetInfo()["info"]), &info))
			if tt.want == nil {
				assert.Empty(t, info.Conditions)
				return
			}
			assert.Equal(t, []podCondition{*tt.want}, info.Conditions)
		})
	}
}
