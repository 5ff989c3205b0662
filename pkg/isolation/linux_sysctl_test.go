package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPodSysctls(t *testing.T) {
	tests := []struct {
		name             string
		in               map[string]string
		hostNet, hostIPC bool
		want             map[string]string
		wantErr          bool
	}{
		{name: "none", in: nil, want: nil},
		{name: "ipc and mqueue", in: map[string]string{"kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "100"}, want: map[string]string{"kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "100"}},
		{name: "net", in: map[string]string{"net.ipv4.ip_local_port_range": "1024 65000"}, want: map[string]string{"net.ipv4.ip_local_port_range": "1024 65000"}},
		{name: "slash form", in: map[string]string{"net/ipv4/conf/eth0.100/forwarding": "1"}, want: map[string]string{"net.ipv4.conf.eth0/100.forwarding": "1"}},
		{name: "net on host network", in: map[string]string{"net.core.somaxconn": "1024"}, hostNet: true, wantErr: true},
		{name: "ipc with host ipc", in: map[string]string{"kernel.shmmax": "1"}, hostIPC: true, wantErr: true},
		{name: "mqueue with host ipc", in: map[string]string{"fs.mqueue.msg_max": "1"}, hostIPC: true, wantErr: true},
		{name: "ipc on host network is fine", in: map[string]string{"kernel.sem": "1 2 3 4"}, hostNet: true, want: map[string]string{"kernel.sem": "1 2 3 4"}},
		{name: "domainname", in: map[string]string{"kernel.domainname": "x"}, want: map[string]string{"kernel.domainname": "x"}},
		{name: "not namespaced", in: map[string]string{"vm.swappiness": "1"}, wantErr: true},
		{name: "hostname is not a sysctl for pods", in: map[string]string{"kernel.hostname": "x"}, wantErr: true},
		{name: "malformed", in: map[string]string{"net..core": "1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podSysctls(tt.in, tt.hostNet, tt.hostIPC)
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
