package network

import "github.com/Microsoft/hcsshim/hcn"

// hcnNetworks asks the Host Network Service.
type hcnNetworks struct{}

func (hcnNetworks) NetworkExists(name string) (bool, error) {
	_, err := hcn.GetNetworkByName(name)
	if hcn.IsNotFoundError(err) {
		return false, nil
	}
	return err == nil, err
}

// hostNetworks is the HNS on Windows.
func hostNetworks() hnsNetworks { return newCachedHNS(hcnNetworks{}) }
