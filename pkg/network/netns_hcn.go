package network

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"
)

// hcnClient is the part of the Host Network Service that pod namespaces
// need; on Windows it is hcsshim's hcn package, in tests a fake that
// behaves like it.
type hcnClient interface {
	CreateNamespace() (id string, err error)
	// DeleteNamespace fails with errHCNNotFound when there is none.
	DeleteNamespace(id string) error
	// NamespaceEndpoints lists the endpoints attached to a namespace;
	// errHCNNotFound when there is no such namespace.
	NamespaceEndpoints(nsID string) ([]string, error)
	// Endpoints lists every endpoint of the host.
	Endpoints() ([]hcnEndpoint, error)
	// DeleteEndpoint fails with errHCNNotFound when there is none.
	DeleteEndpoint(id string) error
}

// hcnEndpoint is an HNS endpoint as the reconciliation sees it.
type hcnEndpoint struct {
	ID   string
	Name string
	// Namespace is the namespace it is attached to, "" for none.
	Namespace string
}

// errHCNNotFound is what an hcnClient answers for an object that does
// not exist.
var errHCNNotFound = errors.New("not found in the Host Network Service")

// hcnNamespaces gives each pod an HCN namespace and records its id in
// <dir>/<podID>, because HCN namespaces carry no name to find them by
// after a restart. The record is written before the namespace exists
// and removed after it is gone, so it is how wincri tells its own HNS
// objects from others': what is attached to a recorded namespace, and
// endpoints named after a recorded pod, belong to that pod.
type hcnNamespaces struct {
	nsDir
	hcn hcnClient
}

var _ namespaces = hcnNamespaces{}

func (n hcnNamespaces) Create(ctx context.Context, podID string) (string, error) {
	// The record exists before the namespace so that a crash in between
	// leaves something Remove can find; an empty record means "none".
	f, err := n.reserve(podID, 0o600)
	if err != nil {
		return "", err
	}
	id, err := n.hcn.CreateNamespace()
	if err == nil {
		if _, err = f.WriteString(id); err == nil {
			err = f.Sync()
		}
		if err != nil {
			_ = n.hcn.DeleteNamespace(id)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = n.removeEntry(podID)
		return "", fmt.Errorf("HCN namespace of pod %s: %v: %w", podID, err, errdefs.ErrUnavailable)
	}
	klog.FromContext(ctx).V(4).Info("Created HCN namespace", logPod, podID, logNetNS, id)
	return id, nil
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

// Remove deletes the pod's namespace, with the endpoints still attached
// to it (a CNI DEL that failed, or that never ran because the plugin's
// result was not cached yet), then its record.
func (n hcnNamespaces) Remove(ctx context.Context, podID string) error {
	id, err := n.readRecord(podID)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if id != "" {
		if err := n.removeNamespace(ctx, podID, id); err != nil {
			return err
		}
	}
	return n.removeEntry(podID)
}

func (n hcnNamespaces) removeNamespace(ctx context.Context, podID, id string) error {
	eps, err := n.hcn.NamespaceEndpoints(id)
	if errors.Is(err, errHCNNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("endpoints of HCN namespace %s of pod %s: %v: %w", id, podID, err, errdefs.ErrUnavailable)
	}
	for _, ep := range eps {
		if err := n.deleteEndpoint(ctx, podID, ep, "attached to the pod's namespace"); err != nil {
			return err
		}
	}
	if err := n.hcn.DeleteNamespace(id); err != nil && !errors.Is(err, errHCNNotFound) {
		return fmt.Errorf("delete HCN namespace %s of pod %s: %v: %w", id, podID, err, errdefs.ErrUnavailable)
	}
	klog.FromContext(ctx).V(4).Info("Deleted HCN namespace", logPod, podID, logNetNS, id)
	return nil
}

func (n hcnNamespaces) deleteEndpoint(ctx context.Context, podID, id, why string) error {
	err := n.hcn.DeleteEndpoint(id)
	if errors.Is(err, errHCNNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete HNS endpoint %s of pod %s: %v: %w", id, podID, err, errdefs.ErrUnavailable)
	}
	klog.FromContext(ctx).Info("Deleted a leftover HNS endpoint", logPod, podID, "endpoint", id, "reason", why)
	return nil
}

// Sweep deletes the endpoints named after a pod that is gone and
// attached to no namespace: what a Windows CNI plugin made (the
// plugins name endpoints <container id>_<network>) before wincri died in
// its ADD, before the endpoint reached the pod's namespace (the name is
// containernetworking/plugins pkg/hns/endpoint_windows.go,
// ConstructEndpointName, for an HCN namespace as CNI_NETNS). Only pods
// wincri has a namespace record of are swept, so that no other
// runtime's endpoint is touched.
func (n hcnNamespaces) Sweep(ctx context.Context, podID string) error {
	if _, err := n.readRecord(podID); err != nil {
		if errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	eps, err := n.hcn.Endpoints()
	if err != nil {
		return fmt.Errorf("list HNS endpoints: %v: %w", err, errdefs.ErrUnavailable)
	}
	var errs []error
	for _, ep := range eps {
		if ep.Namespace == "" && strings.HasPrefix(ep.Name, podID+"_") {
			if err := n.deleteEndpoint(ctx, podID, ep.ID, "named after the pod, attached to no namespace"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
