package shim

import (
	"fmt"

	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
)

// bootstrapInput is what one start invocation tells the shim on stdin.
type bootstrapInput struct {
	ID        string
	Namespace string
	// TTRPCAddress is where the shim forwards events; GRPCAddress is the
	// stable -address value.
	TTRPCAddress string
	GRPCAddress  string
	// PublishBinary is the -publish-binary value.
	PublishBinary string
	// SocketDir is where runc-v2 creates its task socket.
	SocketDir string
	Options   typeurl.Any
	Debug     bool
}

// encodeBootstrapParams marshals the protobuf BootstrapParams a shim
// reads from stdin. runc-v2 rejects params whose instance id or
// namespace differ from its flags, so both come from the same input.
func encodeBootstrapParams(in bootstrapInput) ([]byte, error) {
	p := &bootstrap.BootstrapParams{
		InstanceID:             in.ID,
		Namespace:              in.Namespace,
		LogLevel:               bootstrap.LogLevel_LOG_LEVEL_INFO,
		ContainerdTtrpcAddress: in.TTRPCAddress,
		ContainerdGrpcAddress:  in.GRPCAddress,
		ContainerdBinary:       in.PublishBinary,
	}
	if in.Debug {
		p.LogLevel = bootstrap.LogLevel_LOG_LEVEL_DEBUG
	}
	if in.SocketDir != "" {
		p.SocketDir = proto.String(in.SocketDir)
	}
	if in.Options != nil {
		if err := p.AddExtension(typeurl.MarshalProto(in.Options)); err != nil {
			return nil, fmt.Errorf("runtime options as bootstrap extension: %w: %w", errdefs.ErrInvalidArgument, err)
		}
	}
	b, err := proto.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("marshal bootstrap params: %w", err)
	}
	return b, nil
}
