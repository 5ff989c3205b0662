package shim

import (
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/types/known/anypb"
)

// specTypeURL is the type URL prefix containerd registers the OCI
// runtime-spec types under; runhcs decodes Update resources by it, and
// both shims read the JSON value of an exec's process spec.
var specTypeURL = fmt.Sprintf("types.containerd.io/opencontainers/runtime-spec/%d/", specs.VersionMajor)

// ProcessSpec marshals an exec's OCI process for ExecOpts.Spec.
func ProcessSpec(p *specs.Process) (typeurl.Any, error) {
	if p == nil {
		return nil, fmt.Errorf("no process spec: %w", errdefs.ErrInvalidArgument)
	}
	return specAny("Process", p)
}

// LinuxResources marshals resources for Shim.Update of a runc task.
func LinuxResources(r *specs.LinuxResources) (typeurl.Any, error) {
	if r == nil {
		return nil, fmt.Errorf("no linux resources: %w", errdefs.ErrInvalidArgument)
	}
	return specAny("LinuxResources", r)
}

// WindowsResources marshals resources for Shim.Update of a runhcs task.
func WindowsResources(r *specs.WindowsResources) (typeurl.Any, error) {
	if r == nil {
		return nil, fmt.Errorf("no windows resources: %w", errdefs.ErrInvalidArgument)
	}
	return specAny("WindowsResources", r)
}

// specAny builds the Any by hand rather than through typeurl.Register,
// which would be process-wide state.
func specAny(name string, v any) (typeurl.Any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w: %w", name, errdefs.ErrInvalidArgument, err)
	}
	return &anypb.Any{TypeUrl: specTypeURL + name, Value: b}, nil
}
