package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containernetworking/cni/libcni"
)

// confExtensions are the file types a conf_dir is searched for, as
// containerd and cri-o do: .conflist is a network list, the others are
// single-plugin configurations.
var confExtensions = []string{".conflist", ".conf", ".json"}

// SourceBuiltin names the built-in default network as a network source.
const SourceBuiltin = "built-in default"

// skippedConf is a conf_dir file that was not used, and why.
type skippedConf struct {
	File   string
	Reason string
}

// network is the CNI network pods join, and where it came from.
type network struct {
	List *libcni.NetworkConfigList
	// Source is the file it was read from, or SourceBuiltin.
	Source string
	// Skipped are invalid files that sort before Source.
	Skipped []skippedConf
}

// NotReadyError says why no CNI network is usable. Its text is meant for
// the message of CRI's NetworkReady=false condition.
type NotReadyError struct {
	Message string
}

// NotReadyReason is the reason of CRI's NetworkReady=false condition,
// the one kubelet and containerd use.
const NotReadyReason = "NetworkPluginNotReady"

func (e *NotReadyError) Error() string { return e.Message }

// Unwrap makes a NotReadyError an errdefs.ErrFailedPrecondition.
func (e *NotReadyError) Unwrap() error { return errdefs.ErrFailedPrecondition }

// loadConfDir picks the network from dir: the first file by lexical name
// that parses into a network with at least one plugin. Invalid files are
// skipped and reported. It returns a nil network and no error when dir
// has no candidate file at all (or does not exist), so that the caller
// may fall back to the built-in network; it returns a NotReadyError when
// candidates exist but none is valid, because silently putting pods on
// another network than the one the administrator wrote is worse than
// saying so.
func loadConfDir(dir string) (*network, error) {
	files, err := libcni.ConfFiles(dir, confExtensions)
	if err != nil {
		return nil, &NotReadyError{Message: fmt.Sprintf("cannot read CNI conf_dir %s: %v", dir, err)}
	}
	if len(files) == 0 {
		return nil, nil
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	var skipped []skippedConf
	for _, f := range files {
		list, err := loadConfFile(f)
		if err != nil {
			skipped = append(skipped, skippedConf{File: f, Reason: err.Error()})
			continue
		}
		return &network{List: list, Source: f, Skipped: skipped}, nil
	}
	reasons := make([]string, len(skipped))
	for i, s := range skipped {
		reasons[i] = s.File + ": " + s.Reason
	}
	return nil, &NotReadyError{Message: fmt.Sprintf("no valid CNI network configuration in %s: %s", dir, strings.Join(reasons, "; "))}
}

// confListFromSinglePlugin reads a single-plugin .conf file, still common
// on Windows nodes, as a one-plugin network list: the network's name and
// CNI version move up to the list, as libcni's deprecated
// ConfListFromConf did.
func confListFromSinglePlugin(path string) (*libcni.NetworkConfigList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var plugin map[string]any
	if err := json.Unmarshal(data, &plugin); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	list, err := json.Marshal(map[string]any{
		"name":       plugin["name"],
		"cniVersion": plugin["cniVersion"],
		"plugins":    []any{plugin},
	})
	if err != nil {
		return nil, err
	}
	return libcni.NetworkConfFromBytes(list)
}

// loadConfFile reads one conf_dir file as a network list.
func loadConfFile(path string) (*libcni.NetworkConfigList, error) {
	var list *libcni.NetworkConfigList
	if strings.HasSuffix(path, ".conflist") {
		l, err := libcni.NetworkConfFromFile(path)
		if err != nil {
			return nil, err
		}
		list = l
	} else {
		l, err := confListFromSinglePlugin(path)
		if err != nil {
			return nil, err
		}
		list = l
	}
	return list, validateList(list)
}

func validateList(list *libcni.NetworkConfigList) error {
	if list.Name == "" {
		return errors.New("network has no name")
	}
	if len(list.Plugins) == 0 {
		return errors.New("network has no plugins")
	}
	for i, p := range list.Plugins {
		if p.Network == nil || p.Network.Type == "" {
			return fmt.Errorf("plugin %d has no type", i)
		}
	}
	return nil
}

// pluginTypes lists the plugin binaries a network needs, in order.
func pluginTypes(list *libcni.NetworkConfigList) []string {
	types := make([]string, 0, len(list.Plugins))
	for _, p := range list.Plugins {
		types = append(types, p.Network.Type)
	}
	return types
}
