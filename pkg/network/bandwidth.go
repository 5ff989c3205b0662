package network

import (
	"fmt"
	"math"
	"math/big"
	"regexp"

	"github.com/containerd/errdefs"
)

// bandwidthEntry is the "bandwidth" capability, in bits per second.
type bandwidthEntry struct {
	IngressRate  uint64 `json:"ingressRate,omitempty"`
	IngressBurst uint64 `json:"ingressBurst,omitempty"`
	EgressRate   uint64 `json:"egressRate,omitempty"`
	EgressBurst  uint64 `json:"egressBurst,omitempty"`
}

// Kubernetes accepts bandwidth annotations from 1k to 1P bit/s.
var (
	minBandwidth = big.NewRat(1000, 1)
	maxBandwidth = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil))
)

// podBandwidth reads the pod's bandwidth annotations; nil when it has
// none. kubelet gives no burst, so the burst is left unlimited, as
// containerd does.
func podBandwidth(annotations map[string]string) (*bandwidthEntry, error) {
	var bw bandwidthEntry
	for key, dst := range map[string]*uint64{AnnotationIngressBandwidth: &bw.IngressRate, AnnotationEgressBandwidth: &bw.EgressRate} {
		s, ok := annotations[key]
		if !ok {
			continue
		}
		v, err := parseQuantity(s)
		if err != nil {
			return nil, fmt.Errorf("annotation %s=%q: %v: %w", key, s, err, errdefs.ErrInvalidArgument)
		}
		if v.Cmp(minBandwidth) < 0 || v.Cmp(maxBandwidth) > 0 {
			return nil, fmt.Errorf("annotation %s=%q: must be between 1k and 1P bits per second: %w", key, s, errdefs.ErrInvalidArgument)
		}
		*dst = ceilUint64(v)
	}
	if bw.IngressRate == 0 && bw.EgressRate == 0 {
		return nil, nil
	}
	if bw.IngressRate > 0 {
		bw.IngressBurst = math.MaxUint32
	}
	if bw.EgressRate > 0 {
		bw.EgressBurst = math.MaxUint32
	}
	return &bw, nil
}

// quantityRE is the subset of Kubernetes resource quantities that makes
// sense for a rate: a non-negative decimal with an optional SI or binary
// suffix.
var quantityRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([kMGTPE]i?|Ki|m)?$`)

var quantitySuffixes = map[string]*big.Rat{
	"":   big.NewRat(1, 1),
	"m":  big.NewRat(1, 1000),
	"k":  pow(10, 3),
	"M":  pow(10, 6),
	"G":  pow(10, 9),
	"T":  pow(10, 12),
	"P":  pow(10, 15),
	"E":  pow(10, 18),
	"Ki": pow(2, 10),
	"Mi": pow(2, 20),
	"Gi": pow(2, 30),
	"Ti": pow(2, 40),
	"Pi": pow(2, 50),
	"Ei": pow(2, 60),
}

func pow(base, exp int64) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(base), big.NewInt(exp), nil))
}

// parseQuantity parses a quantity such as "10M" or "1.5Gi" exactly.
func parseQuantity(s string) (*big.Rat, error) {
	m := quantityRE.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("not a quantity such as 10M or 1Gi")
	}
	mult, ok := quantitySuffixes[m[2]]
	if !ok {
		return nil, fmt.Errorf("unknown suffix %q", m[2])
	}
	v, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return nil, fmt.Errorf("not a number")
	}
	return v.Mul(v, mult), nil
}

// ceilUint64 rounds v (known to be within 1k..1P) up to an integer, as
// Kubernetes' Quantity.Value does.
func ceilUint64(v *big.Rat) uint64 {
	q, r := new(big.Int).QuoRem(v.Num(), v.Denom(), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Uint64()
}
