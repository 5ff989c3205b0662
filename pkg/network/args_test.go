package network

import (
	"math"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPortMappings(t *testing.T) {
	tests := []struct {
		name    string
		in      []PortMapping
		want    []portMapEntry
		wantErr bool
	}{
		{name: "none"},
		{
			name: "protocols lowercase, host IP kept",
			in: []PortMapping{
				{Protocol: ProtocolTCP, ContainerPort: 80, HostPort: 8080},
				{Protocol: ProtocolUDP, ContainerPort: 53, HostPort: 5353, HostIP: "127.0.0.1"},
				{Protocol: ProtocolSCTP, ContainerPort: 9, HostPort: 9},
			},
			want: []portMapEntry{
				{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
				{HostPort: 5353, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
				{HostPort: 9, ContainerPort: 9, Protocol: "sctp"},
			},
		},
		{name: "empty protocol is tcp", in: []PortMapping{{ContainerPort: 80, HostPort: 80}}, want: []portMapEntry{{HostPort: 80, ContainerPort: 80, Protocol: "tcp"}}},
		{name: "no host port is dropped", in: []PortMapping{{Protocol: ProtocolTCP, ContainerPort: 80}}},
		{name: "unknown protocol", in: []PortMapping{{Protocol: "icmp", ContainerPort: 80, HostPort: 80}}, wantErr: true},
		{name: "uppercase protocol is not the CNI spelling", in: []PortMapping{{Protocol: "TCP", ContainerPort: 80, HostPort: 80}}, wantErr: true},
		{name: "host port out of range", in: []PortMapping{{ContainerPort: 80, HostPort: 70000}}, wantErr: true},
		{name: "negative host port", in: []PortMapping{{ContainerPort: 80, HostPort: -1}}, wantErr: true},
		{name: "container port zero", in: []PortMapping{{HostPort: 80}}, wantErr: true},
		{name: "bad host IP", in: []PortMapping{{ContainerPort: 80, HostPort: 80, HostIP: "localhost"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := portMappings(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRuntimeConf(t *testing.T) {
	pod := PodNetwork{
		ID: "abc123", Name: "web", Namespace: "default", UID: "uid-1",
		PortMappings: []PortMapping{{Protocol: ProtocolTCP, ContainerPort: 80, HostPort: 8080}},
		DNS:          &DNS{Servers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local"}, Options: []string{"ndots:5"}},
		Annotations:  map[string]string{AnnotationIngressBandwidth: "10M"},
	}
	rt, err := runtimeConf(pod, "/run/netns/abc123")
	require.NoError(t, err)
	assert.Equal(t, "abc123", rt.ContainerID)
	assert.Equal(t, "/run/netns/abc123", rt.NetNS)
	assert.Equal(t, "eth0", rt.IfName)
	assert.Equal(t, [][2]string{
		{"IgnoreUnknown", "1"},
		{"K8S_POD_NAMESPACE", "default"},
		{"K8S_POD_NAME", "web"},
		{"K8S_POD_INFRA_CONTAINER_ID", "abc123"},
		{"K8S_POD_UID", "uid-1"},
	}, rt.Args)
	assert.Equal(t, []portMapEntry{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}, rt.CapabilityArgs["portMappings"])
	assert.Equal(t, dnsEntry{Servers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local"}, Options: []string{"ndots:5"}}, rt.CapabilityArgs["dns"])
	assert.Equal(t, &bandwidthEntry{IngressRate: 10_000_000, IngressBurst: math.MaxUint32}, rt.CapabilityArgs["bandwidth"])
}

func TestRuntimeConfMinimal(t *testing.T) {
	rt, err := runtimeConf(PodNetwork{ID: "p", DNS: &DNS{}}, "")
	require.NoError(t, err)
	assert.Empty(t, rt.CapabilityArgs, "no capability is passed that the pod did not ask for")
}

func TestRuntimeConfRejectsBadInput(t *testing.T) {
	for name, pod := range map[string]PodNetwork{
		"port":      {ID: "p", PortMappings: []PortMapping{{Protocol: "bogus", ContainerPort: 1, HostPort: 1}}},
		"bandwidth": {ID: "p", Annotations: map[string]string{AnnotationEgressBandwidth: "fast"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runtimeConf(pod, "")
			require.Error(t, err)
			assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
		})
	}
}

func TestPodBandwidth(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        *bandwidthEntry
		wantErr     bool
	}{
		{name: "none", annotations: map[string]string{"other": "1"}},
		{name: "ingress SI", annotations: map[string]string{AnnotationIngressBandwidth: "10M"}, want: &bandwidthEntry{IngressRate: 10_000_000, IngressBurst: math.MaxUint32}},
		{name: "egress binary", annotations: map[string]string{AnnotationEgressBandwidth: "1Mi"}, want: &bandwidthEntry{EgressRate: 1 << 20, EgressBurst: math.MaxUint32}},
		{name: "fraction rounds up", annotations: map[string]string{AnnotationIngressBandwidth: "1.0000001k"}, want: &bandwidthEntry{IngressRate: 1001, IngressBurst: math.MaxUint32}},
		{name: "plain number", annotations: map[string]string{AnnotationIngressBandwidth: "5000"}, want: &bandwidthEntry{IngressRate: 5000, IngressBurst: math.MaxUint32}},
		{name: "both", annotations: map[string]string{AnnotationIngressBandwidth: "1G", AnnotationEgressBandwidth: "2G"}, want: &bandwidthEntry{IngressRate: 1e9, IngressBurst: math.MaxUint32, EgressRate: 2e9, EgressBurst: math.MaxUint32}},
		{name: "upper bound", annotations: map[string]string{AnnotationIngressBandwidth: "1P"}, want: &bandwidthEntry{IngressRate: 1e15, IngressBurst: math.MaxUint32}},
		{name: "below 1k", annotations: map[string]string{AnnotationIngressBandwidth: "999"}, wantErr: true},
		{name: "above 1P", annotations: map[string]string{AnnotationEgressBandwidth: "2P"}, wantErr: true},
		{name: "not a quantity", annotations: map[string]string{AnnotationEgressBandwidth: "10 Mbit"}, wantErr: true},
		{name: "unknown suffix", annotations: map[string]string{AnnotationEgressBandwidth: "10ki"}, wantErr: true},
		{name: "negative", annotations: map[string]string{AnnotationEgressBandwidth: "-10M"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podBandwidth(tt.annotations)
			if tt.wantErr {
				require.Error(t, err)
				assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValidatePodID(t *testing.T) {
	for id, ok := range map[string]bool{
		"0123abcdef": true, "pod-1.a_b": true,
		"": false, "../etc": false, "a/b": false, ".hidden": false, "a b": false,
	} {
		err := validatePodID(id)
		if ok {
			assert.NoError(t, err, id)
		} else {
			assert.True(t, errdefs.IsInvalidArgument(err), "%q: %v", id, err)
		}
	}
}
