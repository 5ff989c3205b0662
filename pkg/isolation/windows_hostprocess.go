package isolation

import (
	"github.com/Microsoft/hcsshim/pkg/annotations"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	// hostProcessDefaultUser runs a HostProcess container whose request and
	// image name no user: hcsshim's job container logs a user on, and an
	// empty name fails that logon.
	hostProcessDefaultUser = `NT AUTHORITY\SYSTEM`
	// hostProcessDefaultRoot is where hcsshim mounts a HostProcess
	// container's files unless the pod moves them: the default working
	// directory, as containerd's (C:\ would be the host's own drive).
	hostProcessDefaultRoot = `C:\hpc`
)

// hostProcessAnnotations are hcsshim's HostProcess settings that a pod
// sets through its annotations, passed to every task of the pod.
var hostProcessAnnotations = []string{
	annotations.HostProcessInheritUser,    // run as the shim's own user
	annotations.HostProcessRootfsLocation, // where the container's files appear
}

// applyHostProcess turns a task's spec into a HostProcess container's:
// the hcsshim annotation, the pod's HostProcess annotations, no network
// namespace or hostname of its own, the request's user else the image's
// else SYSTEM, and the request's working directory else the image's else
// the container's root (hcsshim resolves an image directory under it on
// hosts without the bind filter).
func applyHostProcess(spec *specs.Spec, podAnnotations map[string]string, runAs, workingDir string, img *imagespec.ImageConfig) {
	spec.Annotations[annotations.HostProcessContainer] = "true"
	for _, k := range hostProcessAnnotations {
		if v, ok := podAnnotations[k]; ok {
			spec.Annotations[k] = v
		}
	}
	spec.Hostname = ""
	user := runAs
	if user == "" && img != nil {
		user = img.User
	}
	if user == "" {
		user = hostProcessDefaultUser
	}
	spec.Process.User.Username = user
	cwd := workingDir
	if cwd == "" && img != nil {
		cwd = img.WorkingDir
	}
	if cwd == "" {
		cwd = hostProcessDefaultRoot
		if root := podAnnotations[annotations.HostProcessRootfsLocation]; root != "" {
			cwd = root
		}
	}
	spec.Process.Cwd = cwd
}
