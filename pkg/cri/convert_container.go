package cri

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/sandbox"
)

func containerState(s sandbox.ContainerState) runtime.ContainerState {
	switch s {
	case sandbox.ContainerCreated:
		return runtime.ContainerState_CONTAINER_CREATED
	case sandbox.ContainerRunning:
		return runtime.ContainerState_CONTAINER_RUNNING
	case sandbox.ContainerExited:
		return runtime.ContainerState_CONTAINER_EXITED
	default:
		return runtime.ContainerState_CONTAINER_UNKNOWN
	}
}

func fromCRIContainerState(s runtime.ContainerState) sandbox.ContainerState {
	switch s {
	case runtime.ContainerState_CONTAINER_CREATED:
		return sandbox.ContainerCreated
	case runtime.ContainerState_CONTAINER_RUNNING:
		return sandbox.ContainerRunning
	case runtime.ContainerState_CONTAINER_EXITED:
		return sandbox.ContainerExited
	default:
		return sandbox.ContainerUnknown
	}
}

// containerImageRef is what kubelet records as the image a container runs: the
// repo digest when the image has one, else its id.
func containerImageRef(c sandbox.Container) string {
	if c.RepoDigest != "" {
		return c.RepoDigest
	}
	return c.ImageID
}

func toCRIContainer(c sandbox.Container) *runtime.Container {
	return &runtime.Container{
		Id:           c.ID,
		PodSandboxId: c.PodID,
		Metadata:     c.Config.GetMetadata(),
		Image:        &runtime.ImageSpec{Image: c.ImageName, UserSpecifiedImage: c.ImageRef},
		ImageRef:     containerImageRef(c),
		ImageId:      c.ImageID,
		State:        containerState(c.State),
		CreatedAt:    unixNano(c.CreatedAt),
		Labels:       c.Config.GetLabels(),
		Annotations:  c.Config.GetAnnotations(),
	}
}

func toCRIContainerStatus(c sandbox.Container) *runtime.ContainerStatus {
	st := &runtime.ContainerStatus{
		Id:          c.ID,
		Metadata:    c.Config.GetMetadata(),
		State:       containerState(c.State),
		CreatedAt:   unixNano(c.CreatedAt),
		StartedAt:   unixNano(c.StartedAt),
		FinishedAt:  unixNano(c.FinishedAt),
		ExitCode:    c.ExitCode,
		Image:       &runtime.ImageSpec{Image: c.ImageName, UserSpecifiedImage: c.ImageRef},
		ImageRef:    containerImageRef(c),
		ImageId:     c.ImageID,
		Reason:      c.Reason,
		Message:     c.Message,
		Labels:      c.Config.GetLabels(),
		Annotations: c.Config.GetAnnotations(),
		Mounts:      statusMounts(c),
		LogPath:     c.LogPath,
	}
	if r := c.Config.GetLinux().GetResources(); r != nil {
		st.Resources = &runtime.ContainerResources{Linux: r}
	} else if r := c.Config.GetWindows().GetResources(); r != nil {
		st.Resources = &runtime.ContainerResources{Windows: r}
	}
	if c.Resources != nil {
		st.Resources = c.Resources
	}
	st.User = containerUser(c.Spec)
	return st
}

// statusMounts are the container's mounts, image mounts with the id of
// the image they mount (ImageSpec.image_ref).
func statusMounts(c sandbox.Container) []*runtime.Mount {
	mounts := c.Config.GetMounts()
	if len(c.ImageVolumes) == 0 {
		return mounts
	}
	out := make([]*runtime.Mount, len(mounts))
	for i, m := range mounts {
		id, ok := c.ImageVolumes[m.GetContainerPath()]
		if !ok || m.GetImage() == nil {
			out[i] = m
			continue
		}
		m = proto.Clone(m).(*runtime.Mount)
		m.Image.ImageRef = id
		out[i] = m
	}
	return out
}

// specUser is the part of an OCI spec ContainerStatus reports.
type specUser struct {
	Process *struct {
		User struct {
			UID            int64   `json:"uid"`
			GID            int64   `json:"gid"`
			AdditionalGids []int64 `json:"additionalGids"`
			Username       string  `json:"username"`
		} `json:"user"`
	} `json:"process"`
	Windows *struct{} `json:"windows"`
}

func containerUser(spec []byte) *runtime.ContainerUser {
	var s specUser
	if len(spec) == 0 || json.Unmarshal(spec, &s) != nil || s.Process == nil {
		return nil
	}
	u := s.Process.User
	if s.Windows != nil {
		return nil
	}
	return &runtime.ContainerUser{Linux: &runtime.LinuxContainerUser{Uid: u.UID, Gid: u.GID, SupplementalGroups: u.AdditionalGids}}
}

// containerInfo is ContainerStatus's verbose info.
type containerInfo struct {
	SandboxID string `json:"sandboxID"`
	// Pid is the container's init process as the host's process list
	// shows it; absent for a hyperv container, whose process is inside
	// the pod's utility VM (UtilityVM).
	Pid         *uint32                  `json:"pid,omitempty"`
	UtilityVM   *uvmInfo                 `json:"utilityVM,omitempty"`
	Removing    bool                     `json:"removing"`
	LogPath     string                   `json:"logPath,omitempty"`
	Config      *runtime.ContainerConfig `json:"config"`
	RuntimeSpec json.RawMessage          `json:"runtimeSpec,omitempty"`
}

// uvmInfo says where a hyperv container's processes live. containerd
// reports the in-VM PID as "pid", which sends people looking for it on
// the host.
type uvmInfo struct {
	ID string `json:"id"`
	// PidInVM is the container's init process inside the utility VM; no
	// host process has this PID.
	PidInVM uint32 `json:"pidInVM"`
	// WorkerProcessHostPid is the host PID of vmwp.exe, the worker
	// process that runs the VM; 0 when it could not be found.
	WorkerProcessHostPid uint32 `json:"workerProcessHostPid"`
	// WorkerProcessError says why it could not be found.
	WorkerProcessError string `json:"workerProcessError,omitempty"`
}

// containerVerboseInfo builds the verbose info; workerPid finds a utility
// VM's worker process.
func containerVerboseInfo(c sandbox.Container, workerPid func(uvmID string) (uint32, error)) (map[string]string, error) {
	info := containerInfo{SandboxID: c.PodID, LogPath: c.LogPath, Config: c.Config, RuntimeSpec: c.Spec}
	if c.Isolation == config.IsolationHyperV {
		info.UtilityVM = &uvmInfo{ID: c.UVMID, PidInVM: c.Pid}
		if pid, err := workerPid(c.UVMID); err != nil {
			info.UtilityVM.WorkerProcessError = err.Error()
		} else {
			info.UtilityVM.WorkerProcessHostPid = pid
		}
	} else {
		pid := c.Pid
		info.Pid = &pid
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return map[string]string{"info": string(b)}, nil
}

func sandboxContainerFilter(podID string) sandbox.ContainerFilter {
	return sandbox.ContainerFilter{PodID: podID}
}

func nowNano() int64 { return time.Now().UnixNano() }
