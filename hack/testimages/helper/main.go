// Command helper is the one compiled program inside the test images. What
// it does depends on the name it runs under:
//
//	nnp    the nonewprivs image's program, installed set-uid root: prints
//	       its effective uid, 0 when the runtime lets it gain privileges,
//	       the caller's uid when the container runs with no_new_privs.
//	pause  the pause image's program: waits for SIGTERM or SIGINT and exits
//	       0, reaping orphans meanwhile, as upstream's pause does. Being one
//	       process with no child, it shows nothing to a `pgrep sleep` run in
//	       a pod that shares its PID namespace.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	switch name := filepath.Base(os.Args[0]); name {
	case "nnp":
		fmt.Printf("Effective uid: %d\n", os.Geteuid())
	case "pause":
		pause()
	default:
		fmt.Fprintf(os.Stderr, "helper: run it as nnp or pause, not as %q\n", name)
		os.Exit(2)
	}
}

func pause() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	reapOrphans()
	<-stop
}
