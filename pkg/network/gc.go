package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"k8s.io/klog/v2"
)

// gcVersion is the first CNI version with GC: a plugin of a network of
// this version or later frees what it holds for attachments not listed.
const gcVersion = "1.1.0"

// sweeper is a namespaces implementation that can find what a pod left
// outside its namespace (HNS endpoints on Windows).
type sweeper interface {
	Sweep(ctx context.Context, podID string) error
}

// GC removes the network state of pods that are gone: it tears down
// every namespace and cached CNI attachment of a pod valid does not
// list (DEL from libcni's cache, then the namespace, as after a crash),
// and then, for a network of CNI 1.1 or later, has the plugins free
// whatever they still hold for attachments other than the valid ones
// (host-local's addresses, for one). valid runs while Setup and
// Teardown are held off, so that no pod is set up between the listing
// of the valid pods and the collection. Every removal is logged.
func (m *Manager) GC(ctx context.Context, valid func() (map[string]bool, error)) error {
	m.gcMu.Lock()
	defer m.gcMu.Unlock()
	log := klog.FromContext(ctx)
	pods, err := valid()
	if err != nil {
		return fmt.Errorf("network GC: listing the pods: %w", err)
	}
	ids, err := m.ListNamespaces()
	if err != nil {
		return fmt.Errorf("network GC: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if pods[id] {
			continue
		}
		log.Info("Removing the network of a pod that is gone", logPod, id)
		if err := m.teardown(ctx, PodNetwork{ID: id}, true); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, m.pluginGC(ctx, pods))
	return errors.Join(errs...)
}

// pluginGC runs the CNI GC of the network pods join now.
func (m *Manager) pluginGC(ctx context.Context, pods map[string]bool) error {
	log := klog.FromContext(ctx)
	n, err := m.network()
	if err != nil {
		log.V(2).Info("No CNI network to garbage-collect", "reason", err.Error())
		return nil
	}
	if ok, _ := version.GreaterThanOrEqualTo(n.List.CNIVersion, gcVersion); !ok {
		log.V(2).Info("The CNI network's version has no GC: its plugins free what a pod held only at its DEL",
			logNetwork, n.List.Name, "cniVersion", n.List.CNIVersion)
		return nil
	}
	args := &libcni.GCArgs{ValidAttachments: make([]types.GCAttachment, 0, len(pods))}
	for id := range pods {
		args.ValidAttachments = append(args.ValidAttachments, types.GCAttachment{ContainerID: id, IfName: podIfName})
	}
	if err := m.cni.GCNetworkList(ctx, n.List, args); err != nil {
		return fmt.Errorf("CNI GC of network %q (%s): %w", n.List.Name, n.Source, err)
	}
	if n.Source == SourceBuiltin {
		if err := m.builtinIPAMGC(ctx, n.List, args); err != nil {
			return fmt.Errorf("CNI GC of the built-in network's addresses: %w", err)
		}
	}
	log.V(2).Info("CNI GC done", logNetwork, n.List.Name, "validAttachments", len(args.ValidAttachments))
	return nil
}

// builtinIPAMGC runs the GC of the built-in network's IPAM plugin
// (host-local) itself: the bridge plugin, up to v1.10.0 at least, does
// not pass GC on to its IPAM plugin (plugins/main/bridge/bridge.go,
// main: "FIXME GC"), so addresses that a crash in ADD left reserved would
// stay. Only the built-in network's: its host-local store is wincri's
// alone, under the state directory, so no other runtime's reservation
// can be freed.
func (m *Manager) builtinIPAMGC(ctx context.Context, list *libcni.NetworkConfigList, args *libcni.GCArgs) error {
	for _, p := range list.Plugins {
		if p.Network.IPAM.Type == "" {
			continue
		}
		conf, err := libcni.InjectConf(p, map[string]any{
			"name":                      list.Name,
			"cniVersion":                list.CNIVersion,
			"cni.dev/valid-attachments": args.ValidAttachments,
		})
		if err != nil {
			return err
		}
		path, err := invoke.FindInPath(p.Network.IPAM.Type, m.binDirs)
		if err != nil {
			return err
		}
		gcArgs := &invoke.Args{Command: "GC", Path: strings.Join(m.binDirs, string(os.PathListSeparator))}
		if err := invoke.ExecPluginWithoutResult(ctx, path, conf.Bytes, gcArgs, m.versions.exec); err != nil {
			return fmt.Errorf("%s: %w", p.Network.IPAM.Type, err)
		}
	}
	return nil
}
