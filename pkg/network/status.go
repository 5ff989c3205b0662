package network

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
)

// Status returns nil when pods can get a network, otherwise a
// NotReadyError (an errdefs.ErrFailedPrecondition) whose text is the
// message for CRI's NetworkReady=false condition.
func (m *Manager) Status() error {
	_, err := m.ready()
	return err
}

// ready is the network pods join, when they can: its plugin binaries are
// installed and, on Windows, the HNS network it names exists. Otherwise
// a NotReadyError says what is missing.
func (m *Manager) ready() (*network, error) {
	n, err := m.network()
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, t := range pluginTypes(n.List) {
		if _, err := invoke.FindInPath(t, m.binDirs); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, &NotReadyError{Message: fmt.Sprintf("CNI network %q (%s): plugin binaries %s not found in bin_dirs %s",
			n.List.Name, n.Source, strings.Join(missing, ", "), strings.Join(m.binDirs, ", "))}
	}
	if m.hns != nil && n.Source != SourceBuiltin {
		exists, err := m.hns.NetworkExists(n.List.Name)
		if err != nil {
			return nil, &NotReadyError{Message: fmt.Sprintf("CNI network %q (%s): looking up its HNS network: %v", n.List.Name, n.Source, err)}
		}
		if !exists {
			return nil, &NotReadyError{Message: fmt.Sprintf("CNI network %q (%s): the HNS network %q does not exist yet (after a reboot, the network's agent creates it)",
				n.List.Name, n.Source, n.List.Name)}
		}
	}
	return n, nil
}

// NetworkInfo describes the network new pods join, for the verbose info
// of CRI's Status.
type NetworkInfo struct {
	Name string `json:"name"`
	// Source is the conf_dir file, or SourceBuiltin.
	Source  string   `json:"source"`
	Plugins []string `json:"plugins"`
	// Skipped are conf_dir files passed over, as "file: reason".
	Skipped []string `json:"skipped,omitempty"`
	// Config is the network configuration as the plugins get it.
	Config json.RawMessage `json:"config"`
}

// Network describes the network new pods join now; the error is a
// NotReadyError when there is none.
func (m *Manager) Network() (NetworkInfo, error) {
	n, err := m.network()
	if err != nil {
		return NetworkInfo{}, err
	}
	info := NetworkInfo{Name: n.List.Name, Source: n.Source, Plugins: pluginTypes(n.List)}
	for _, s := range n.Skipped {
		info.Skipped = append(info.Skipped, s.File+": "+s.Reason)
	}
	if json.Valid(n.List.Bytes) {
		info.Config = n.List.Bytes
	}
	return info, nil
}
