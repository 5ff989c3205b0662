package main

import "strings"

// serviceOnlyFlags are the flags that act on the service registration
// itself and are not part of the registered command line.
var serviceOnlyFlags = map[string]bool{"register-service": true, "unregister-service": true, "run-service": true}

// serviceArgs is the command line the service control manager starts
// wincri with: --run-service, then every flag given to --register-service
// except the registration flags themselves. A service has no console, so
// a log file is added when none is given: logFile, beside the state.
func serviceArgs(args []string, logFile string) []string {
	out := []string{"--run-service"}
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

// serviceDisplayName is the display name of service name. The service
// control manager refuses a display name another service has
// (ERROR_DUPLICATE_SERVICE_NAME), so a second wincri registered under
// another --service-name gets its name in its display name.
func serviceDisplayName(name string) string {
	if name == defaultServiceName {
		return "wincri"
	}
	return "wincri (" + name + ")"
}
