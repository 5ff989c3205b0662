package isolation

import (
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceFromPath has no Windows form: Linux device nodes exist only on a
// Linux node.
func deviceFromPath(p string) (specs.LinuxDevice, error) {
	return specs.LinuxDevice{}, fmt.Errorf("device %q: Linux devices do not exist on a Windows node: %w", p, errdefs.ErrNotImplemented)
}
