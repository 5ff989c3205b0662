package main

import (
	"os"
	"os/signal"
	"syscall"
)

// reapOrphans waits for every child that is handed to this process, PID 1
// of a pod's shared PID namespace, so that none stays a zombie.
func reapOrphans() {
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	go func() {
		for range children {
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}()
}
