package logger

import "net"

// attachAddress is the named pipe of container id's live output; like
// the control pipe it admits SYSTEM and Administrators only and goes
// with its process.
func attachAddress(stateDir, id string) (string, error) {
	return ControlAddress(stateDir, id+".attach")
}

func listenAttach(addr string) (net.Listener, error) { return listenControl(addr) }
