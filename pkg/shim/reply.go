package shim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
)

// Task API versions a shim may announce in its start reply.
const (
	taskAPIv2 = 2
	taskAPIv3 = 3
)

const protocolTTRPC = "ttrpc"

// parseStartReply decodes what a shim's start subcommand printed. Shims
// of three generations answer differently: runc-v2 >= 2.3 prints a
// protobuf BootstrapResult, shims of containerd 1.7/2.0 print JSON
// {version,address,protocol}, and runhcs prints a bare address (task API
// v2). The formats are tried in that order; each candidate must name an
// address, since arbitrary text can decode as a protobuf message.
func parseStartReply(out []byte) (Address, error) {
	if a, ok := parseProtoReply(out); ok {
		return checkReply(a)
	}
	text := bytes.TrimSpace(out)
	if len(text) == 0 {
		return Address{}, fmt.Errorf("shim start printed no address: %w", errdefs.ErrInvalidArgument)
	}
	if text[0] == '{' {
		var a Address
		if err := json.Unmarshal(text, &a); err != nil {
			return Address{}, fmt.Errorf("decode shim start reply %q: %w: %w", text, errdefs.ErrInvalidArgument, err)
		}
		if a.Protocol == "" {
			a.Protocol = protocolTTRPC
		}
		return checkReply(a)
	}
	if bytes.ContainsAny(text, "\n\r\x00") {
		return Address{}, fmt.Errorf("shim start reply %q is not an address: %w", text, errdefs.ErrInvalidArgument)
	}
	return checkReply(Address{Address: string(text), Version: taskAPIv2, Protocol: protocolTTRPC})
}

func parseProtoReply(out []byte) (Address, bool) {
	var r bootstrap.BootstrapResult
	if err := proto.Unmarshal(out, &r); err != nil {
		return Address{}, false
	}
	// A plain-text or JSON reply may happen to be valid protobuf wire
	// format (unknown fields are skipped); only a reply that really
	// carries an address and a version is a BootstrapResult.
	if r.GetAddress() == "" || r.GetVersion() == 0 || !isPrintable(r.GetAddress()) {
		return Address{}, false
	}
	return Address{Address: r.GetAddress(), Version: int(r.GetVersion()), Protocol: r.GetProtocol()}, true
}

func checkReply(a Address) (Address, error) {
	if a.Address == "" {
		return Address{}, fmt.Errorf("shim start reply has no address: %w", errdefs.ErrInvalidArgument)
	}
	if a.Protocol == "" {
		a.Protocol = protocolTTRPC
	}
	if !strings.EqualFold(a.Protocol, protocolTTRPC) {
		return Address{}, fmt.Errorf("shim protocol %q: %w (only ttrpc is supported)", a.Protocol, errdefs.ErrNotImplemented)
	}
	a.Protocol = protocolTTRPC
	if a.Version != taskAPIv2 && a.Version != taskAPIv3 {
		return Address{}, fmt.Errorf("shim task API version %d: %w (want 2 or 3)", a.Version, errdefs.ErrNotImplemented)
	}
	return a, nil
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}
