package network

import (
	"errors"

	"github.com/Microsoft/hcsshim/hcn"
)

// Windows networks come from conf_dir (for example sdnbridge or
// win-overlay); there is no built-in default.
const builtinDefaultNetwork = false

func newNamespaces(dir string) namespaces {
	return hcnNamespaces{nsDir: nsDir{dir: dir}, hcn: hnsClient{}}
}

// hnsClient is the Host Network Service, through hcsshim's hcn.
type hnsClient struct{}

func notFound(err error) error {
	if hcn.IsNotFoundError(err) {
		return errors.Join(errHCNNotFound, err)
	}
	return err
}

func (hnsClient) CreateNamespace() (string, error) {
	ns, err := hcn.NewNamespace(hcn.NamespaceTypeHost).Create()
	if err != nil {
		return "", err
	}
	return ns.Id, nil
}

func (hnsClient) DeleteNamespace(id string) error {
	ns, err := hcn.GetNamespaceByID(id)
	if err == nil {
		err = ns.Delete()
	}
	return notFound(err)
}

func (hnsClient) NamespaceEndpoints(nsID string) ([]string, error) {
	if _, err := hcn.GetNamespaceByID(nsID); err != nil {
		return nil, notFound(err)
	}
	ids, err := hcn.GetNamespaceEndpointIds(nsID)
	return ids, notFound(err)
}

func (hnsClient) Endpoints() ([]hcnEndpoint, error) {
	eps, err := hcn.ListEndpoints()
	if err != nil {
		return nil, err
	}
	out := make([]hcnEndpoint, len(eps))
	for i, ep := range eps {
		out[i] = hcnEndpoint{ID: ep.Id, Name: ep.Name, Namespace: ep.HostComputeNamespace}
	}
	return out, nil
}

func (hnsClient) DeleteEndpoint(id string) error {
	ep, err := hcn.GetEndpointByID(id)
	if err == nil {
		err = ep.Delete()
	}
	return notFound(err)
}
