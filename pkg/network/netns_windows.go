package network

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

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
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return "", fmt.Errorf("network namespace directory: %v: %w", err, errdefs.ErrUnavailable)
	}
	// The record exists before the namespace so that a crash in between
	// leaves something Remove can find; an empty record means "none".
	f, err := os.OpenFile(n.entry(podID), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrAlreadyExists)
	}
	if err != nil {
		return "", fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	defer f.Close()
	ns, err := hcn.NewNamespace(hcn.NamespaceTypeHost).Create()
	if err == nil {
		_, err = f.WriteString(ns.Id)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			_ = ns.Delete()
		}
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(n.entry(podID))
		return "", fmt.Errorf("HCN namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	klog.FromContext(ctx).V(4).Info("Created HCN namespace", logPod, podID, logNetNS, ns.Id)
	return ns.Id, nil
}

// id reads the recorded namespace id; "" when the record is empty.
func (n hcnNamespaces) id(podID string) (string, error) {
	b, err := os.ReadFile(n.entry(podID))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func (n hcnNamespaces) Path(podID string) (string, error) {
	id, err := n.id(podID)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && id == "") {
		return "", fmt.Errorf("network namespace of pod %s: %w", podID, errdefs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return id, nil
}

func (n hcnNamespaces) Remove(_ context.Context, podID string) error {
	id, err := n.id(podID)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
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
	if err := os.Remove(n.entry(podID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("network namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	return nil
}
