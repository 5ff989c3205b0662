package network

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		// conf is the conf_dir network, "" for the built-in one.
		conf    string
		breakIt func(m testManager)
		pod     PodNetwork
		wantErr string
		// unsupported: the error is ErrCheckUnsupported.
		unsupported bool
	}{
		{name: "healthy", pod: testPod("p")},
		{name: "plugin check fails", pod: testPod("p"), breakIt: func(m testManager) {
			m.cni.checkErr = errors.New("bridge: eth0 has no address 10.88.0.2")
		}, wantErr: `CNI CHECK of network "wincri": bridge: eth0 has no address 10.88.0.2`},
		{name: "namespace gone", pod: testPod("p"), breakIt: func(m testManager) {
			require.NoError(t, m.ns.Remove(context.Background(), "p"))
		}, wantErr: "the pod's network namespace is gone"},
		{name: "attachment not recorded", pod: testPod("p"), breakIt: func(m testManager) {
			delete(m.cni.cache, "p")
		}, wantErr: "its setup never finished"},
		{name: "network older than CHECK", conf: `{"cniVersion":"0.3.1","name":"old","type":"ptp"}`, pod: testPod("p"), unsupported: true},
		{name: "host network", pod: PodNetwork{ID: "h", HostNetwork: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, append([]string{"ptp"}, builtinPlugins...)...)
			if tt.conf != "" {
				writeFiles(t, m.confDir, map[string]string{"10-net.conf": tt.conf})
			}
			ctx := context.Background()
			_, err := m.Setup(ctx, tt.pod)
			require.NoError(t, err)
			if tt.breakIt != nil {
				tt.breakIt(m)
			}
			err = m.Check(ctx, tt.pod)
			switch {
			case tt.unsupported:
				require.ErrorIs(t, err, ErrCheckUnsupported)
			case tt.wantErr != "":
				require.ErrorContains(t, err, tt.wantErr)
				assert.NotErrorIs(t, err, ErrCheckUnsupported)
			default:
				require.NoError(t, err)
			}
		})
	}
}
