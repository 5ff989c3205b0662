package config

import (
	"fmt"
	"sort"
	"strings"
)

// Windows priority classes (the dwPriorityClass values of
// SetPriorityClass), by the names priority_class takes. REALTIME is left
// out: it can starve the system's own threads.
var priorityClasses = map[string]uint32{
	"idle":         0x00000040,
	"below_normal": 0x00004000,
	"normal":       0x00000020,
	"above_normal": 0x00008000,
	"high":         0x00000080,
}

// PriorityClassValue is the Windows priority class named name; 0 for ""
// (leave the process's own). An unknown name is an error listing the
// valid ones.
func PriorityClassValue(name string) (uint32, error) {
	if name == "" {
		return 0, nil
	}
	if v, ok := priorityClasses[name]; ok {
		return v, nil
	}
	names := make([]string, 0, len(priorityClasses))
	for n := range priorityClasses {
		names = append(names, n)
	}
	sort.Strings(names)
	return 0, fmt.Errorf("%q is not a priority class (%s)", name, strings.Join(names, ", "))
}
