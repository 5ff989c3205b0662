package main

import (
	"fmt"

	"golang.org/x/sys/windows"

	"github.com/wincri/wincri/pkg/config"
)

// setPriorityClass gives wincri itself the configured priority class; its
// shims get it from the shim driver (ManagerOpts.PriorityClass).
func setPriorityClass(name string) error {
	class, err := config.PriorityClassValue(name)
	if err != nil || class == 0 {
		return err
	}
	if err := windows.SetPriorityClass(windows.CurrentProcess(), class); err != nil {
		return fmt.Errorf("setting wincri's priority class to %s: %w", name, err)
	}
	return nil
}
