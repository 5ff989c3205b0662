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
	n, err := m.network()
	if err != nil {
		return err
	}
	var missing []string
	for _, t := range pluginTypes(n.List) {
		if _, err := invoke.FindInPath(t, m.binDirs); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return &NotReadyError{Message: fmt.Sprintf("CNI network %q (%s): plugin binaries %s not found in bin_dirs %s",
			n.List.Name, n.Source, strings.Join(missing, ", "), strings.Join(m.binDirs, ", "))}
	}
	return nil
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
