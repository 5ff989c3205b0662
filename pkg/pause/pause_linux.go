package pause

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// Run blocks until SIGINT or SIGTERM, reaping every child that exits
// meanwhile. It returns the process exit code.
func Run() int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGCHLD)
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			return 0
		}
		reap()
	}
	return 0
}

func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
