package stats

import (
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
)

// Spec is what a container's runtime spec configures, as the
// container_spec_* metrics report it; 0 is "not set" (or unlimited).
type Spec struct {
	CPUPeriod, CPUShares uint64
	CPUQuota             int64
	// MemorySwapLimit is memory plus swap, as runc applies it.
	MemoryReservation, MemorySwapLimit uint64
	// Linux is false for a Windows spec, which has no CFS period,
	// quota, reservation or swap: only CPUShares is then set.
	Linux bool
}

// specResources is the part of an OCI runtime spec ParseSpec reads;
// decoding only it keeps a stats request from decoding whole specs.
type specResources struct {
	Linux *struct {
		Resources *struct {
			CPU *struct {
				Shares *uint64 `json:"shares"`
				Quota  *int64  `json:"quota"`
				Period *uint64 `json:"period"`
			} `json:"cpu"`
			Memory *struct {
				Reservation *int64 `json:"reservation"`
				Swap        *int64 `json:"swap"`
			} `json:"memory"`
		} `json:"resources"`
	} `json:"linux"`
	Windows *struct {
		Resources *struct {
			CPU *struct {
				Shares *uint16 `json:"shares"`
			} `json:"cpu"`
		} `json:"resources"`
	} `json:"windows"`
}

// ParseSpec reads the resources of an OCI runtime spec (JSON).
// Malformed JSON is errdefs.ErrInvalidArgument.
func ParseSpec(specJSON []byte) (Spec, error) {
	var s specResources
	if err := json.Unmarshal(specJSON, &s); err != nil {
		return Spec{}, fmt.Errorf("decoding runtime spec: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	var out Spec
	if w := s.Windows; w != nil && s.Linux == nil {
		if c := w.Resources; c != nil && c.CPU != nil && c.CPU.Shares != nil {
			out.CPUShares = uint64(*c.CPU.Shares)
		}
		return out, nil
	}
	out.Linux = true
	if s.Linux == nil || s.Linux.Resources == nil {
		return out, nil
	}
	r := s.Linux.Resources
	if c := r.CPU; c != nil {
		out.CPUShares = deref(c.Shares)
		out.CPUPeriod = deref(c.Period)
		if c.Quota != nil && *c.Quota > 0 {
			out.CPUQuota = *c.Quota
		}
	}
	if m := r.Memory; m != nil {
		out.MemoryReservation = positive(m.Reservation)
		out.MemorySwapLimit = positive(m.Swap)
	}
	return out, nil
}

func deref(v *uint64) uint64 {
	if v == nil {
		return 0
	}
	return *v
}

// positive maps unset and -1 (unlimited) to 0.
func positive(v *int64) uint64 {
	if v == nil || *v <= 0 {
		return 0
	}
	return uint64(*v)
}
