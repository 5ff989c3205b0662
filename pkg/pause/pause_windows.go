package pause

import (
	"os"
	"os/signal"
)

// Run blocks until the process is asked to stop. Windows pods use the
// configured sandbox image, not this process; it exists so that the
// command behaves the same everywhere.
func Run() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	<-sigs
	return 0
}
