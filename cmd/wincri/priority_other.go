//go:build !windows

package main

import "errors"

// setPriorityClass refuses a priority class: Linux has nice values, not
// Windows priority classes, and a setting that does nothing must not
// look as if it did.
func setPriorityClass(name string) error {
	if name == "" {
		return nil
	}
	return errors.New("priority classes are Windows'; this OS has none: leave priority_class empty")
}
