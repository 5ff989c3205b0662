//go:build windows

package main

import (
	"fmt"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// pipeSDDL connects to a named pipe and reads back its owner and DACL.
func pipeSDDL(path string) (map[string]string, error) {
	timeout := 10 * time.Second
	conn, err := winio.DialPipe(path, &timeout)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", path, err)
	}
	defer conn.Close()
	h, ok := conn.(interface{ Fd() uintptr })
	if !ok {
		return nil, fmt.Errorf("pipe connection %T has no handle", conn)
	}
	sd, err := windows.GetSecurityInfo(windows.Handle(h.Fd()), windows.SE_KERNEL_OBJECT,
		windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return nil, fmt.Errorf("reading the security descriptor of %s: %w", path, err)
	}
	return map[string]string{"sddl": sd.String()}, nil
}
