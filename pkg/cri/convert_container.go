package cri

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

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
	SandboxID   string                   `json:"sandboxID"`
	Pid         uint32                   `json:"pid"`
	Removing    bool                     `json:"removing"`
	LogPath     string                   `json:"logPath,omitempty"`
	Config      *runtime.ContainerConfig `json:"config"`
	RuntimeSpec json.RawMessage          `json:"runtimeSpec,omitempty"`
}

func containerVerboseInfo(c sandbox.Container) (map[string]string, error) {
	b, err := json.Marshal(containerInfo{SandboxID: c.PodID, Pid: c.Pid, LogPath: c.LogPath, Config: c.Config, RuntimeSpec: c.Spec})
	if err != nil {
		return nil, err
	}
	return map[string]string{"info": string(b)}, nil
}

func sandboxContainerFilter(podID string) sandbox.ContainerFilter {
	return sandbox.ContainerFilter{PodID: podID}
}

func nowNano() int64 { return time.Now().UnixNano() }
