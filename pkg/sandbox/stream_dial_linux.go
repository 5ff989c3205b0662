package sandbox

import "github.com/containernetworking/plugins/pkg/ns"

// inNetNS runs fn on a thread that is in the network namespace at path.
func inNetNS(path string, fn func() error) error {
	return ns.WithNetNSPath(path, func(ns.NetNS) error { return fn() })
}
