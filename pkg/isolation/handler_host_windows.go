package isolation

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"

	"github.com/wincri/wincri/pkg/config"
)

// serviceInstalled reports whether the Windows service name exists. It
// asks only for the rights to look services up, so it works without
// administrator rights.
func serviceInstalled(name string) (bool, error) {
	scm, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return false, fmt.Errorf("opening the service control manager: %w", err)
	}
	defer windows.CloseServiceHandle(scm)
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return false, err
	}
	svc, err := windows.OpenService(scm, n, windows.SERVICE_QUERY_STATUS)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening service %s: %w", name, err)
	}
	windows.CloseServiceHandle(svc)
	return true, nil
}

// windowsVersion is the host's build number and whether it is client
// Windows (a workstation product type) rather than Windows Server.
func windowsVersion() (build uint32, client bool) {
	v := windows.RtlGetVersion()
	return v.BuildNumber, config.ClientProductType(v.ProductType)
}
