package main

import "strings"

// serviceOnlyFlags are the flags that act on the service registration
// itself and are not part of the registered command line.
var serviceOnlyFlags = map[string]bool{"register-service": true, "unregister-service": true}

// serviceArgs is the command line the service control manager starts
// wincri with: every flag given to --register-service except the
// registration flags themselves. A service has no console, so a log file
// is added when none is given: logFile, beside the state.
func serviceArgs(args []string, logFile string) []string {
	var out []string
	hasLog := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name = name[:eq]
		}
		if strings.HasPrefix(a, "-") && serviceOnlyFlags[name] {
			continue
		}
		if strings.HasPrefix(a, "-") && name == "log-file" {
			hasLog = true
		}
		out = append(out, a)
	}
	if !hasLog && logFile != "" {
		out = append(out, "--log-file", logFile)
	}
	return out
}
