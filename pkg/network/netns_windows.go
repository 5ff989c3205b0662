package network

import (
	"context"
	"fmt"

	"github.com/Microsoft/hcsshim/hcn"
	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"
)

// Windows networks come from conf_dir (for example sdnbridge or
// win-overlay); there is no built-in default.
const builtinDefaultNetwork = false

// hcnNamespaces gives each pod an HCN namespace and records its id in
// <dir>/<podID>, because HCN namespaces carry no name to find them by
// after a restart.
type hcnNamespaces struct {
	nsDir
}

var _ namespaces = hcnNamespaces{}

func newNamespaces(dir string) namespaces { return hcnNamespaces{nsDir{dir: dir}} }

func (n hcnNamespaces) Create(ctx context.Context, podID string) (string, error) {
	// The record exists before the namespace so that a crash in between
	// leaves something Remove can find; an empty record means "none".
	f, err := n.reserve(podID, 0o600)
	if err != nil {
		return "", err
	}
	ns, err := hcn.NewNamespace(hcn.NamespaceTypeHost).Create()
	if err == nil {
		if _, err = f.WriteString(ns.Id); err == nil {
			err = f.Sync()
		}
		if err != nil {
			_ = ns.Delete()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = n.removeEntry(podID)
		return "", fmt.Errorf("HCN namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	klog.FromContext(ctx).V(4).Info("Created HCN namespace", logPod, podID, logNetNS, ns.Id)
	return ns.Id, nil
}

func (n hcnNamespaces) Path(podID string) (string, error) {
	id, err := n.readRecord(podID)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrNotFound)
	}
	return id, nil
}

func (n hcnNamespaces) Remove(_ context.Context, podID string) error {
	id, err := n.readRecord(podID)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if id != "" {
		ns, err := hcn.GetNamespaceByID(id)
		if err == nil {
			err = ns.Delete()
		}
		if err != nil && !hcn.IsNotFoundError(err) {
			return fmt.Errorf("delete HCN namespace %s of pod %s: %v: %w", id, podID, err, errdefs.ErrUnavailable)
		}
	}
	return n.removeEntry(podID)
}
