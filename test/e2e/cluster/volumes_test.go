//go:build linux

package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVolumes: every volume type a node serves from kubelet's own
// directories reaches the container through wincri's mounts, subPath
// included.
func TestVolumes(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "from-host"), []byte("host data"), 0o644))
	ns.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: "hello from a configmap", other: "x"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: "s3cret"}
---
apiVersion: v1
kind: Pod
metadata: {name: volumes, labels: {tier: test}}
spec:
  restartPolicy: Never
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: ram, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - {name: cfg, configMap: {name: cfg}}
  - {name: sec, secret: {secretName: sec}}
  - name: info
    downwardAPI:
      items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]
  - name: token
    projected:
      sources: [{serviceAccountToken: {path: token, expirationSeconds: 3600}}]
  - {name: host, hostPath: {path: %q, type: Directory}}
  containers:
  - name: app
    image: %s
    command:
    - sh
    - -c
    - |
      echo scratch > /scratch/f && echo "emptyDir=$(cat /scratch/f)"
      echo "memory=$(grep ' /ram ' /proc/mounts | cut -d' ' -f3)"
      echo "configMap=$(cat /cfg/greeting)"
      echo "subPath=$(cat /greeting)"
      echo "secret=$(cat /sec/password)"
      echo "downwardAPI=$(cat /info/labels)"
      echo "token=$(cut -c1-3 /token/token)"
      echo "hostPath=$(cat /host/from-host)"
      echo written > /host/from-pod
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: ram, mountPath: /ram}
    - {name: cfg, mountPath: /cfg}
    - {name: cfg, mountPath: /greeting, subPath: greeting}
    - {name: sec, mountPath: /sec}
    - {name: info, mountPath: /info}
    - {name: token, mountPath: /token}
    - {name: host, mountPath: /host}
`, host, busyboxImage)
	p := ns.waitPhase("volumes", "Succeeded")
	require.NotNil(t, p.container("app").State.Terminated)
	out, err := ns.kubectl("logs", "volumes")
	require.NoError(t, err)
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	want := map[string]string{
		"emptyDir":    "scratch",
		"memory":      "tmpfs",
		"configMap":   "hello from a configmap",
		"subPath":     "hello from a configmap",
		"secret":      "s3cret",
		"downwardAPI": `tier="test"`,
		"token":       "eyJ", // a JWT
		"hostPath":    "host data",
	}
	assert.Equal(t, want, got, "container output:\n%s", out)
	data, err := os.ReadFile(filepath.Join(host, "from-pod"))
	require.NoError(t, err, "the container's write to the hostPath volume")
	assert.Equal(t, "written\n", string(data))
}
