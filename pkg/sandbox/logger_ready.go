package sandbox

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/containerd/errdefs"
)

// loggerReadyTimeout bounds the wait for a logging process wincri started
// itself, as the shims bound theirs.
const loggerReadyTimeout = 10 * time.Second

// awaitLoggerReady waits, at most loggerReadyTimeout, for the byte a
// logging process wincri started writes to ready once it serves; a
// process that does not is killed. Reaping it is the caller's.
func awaitLoggerReady(proc *os.Process, ready io.Reader) error {
	got := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := io.ReadFull(ready, b[:])
		got <- err
	}()
	var err error
	select {
	case err = <-got:
	case <-time.After(loggerReadyTimeout):
		err = fmt.Errorf("no answer in %s", loggerReadyTimeout)
	}
	if err != nil {
		_ = proc.Kill()
		return fmt.Errorf("the logging process did not get ready: %v: %w", err, errdefs.ErrUnavailable)
	}
	return nil
}
