// Package logger is the process that writes a container's CRI log while
// the container runs, and the calls wincri makes to it.
//
// The log must keep flowing while wincri restarts, so it is not written
// by the daemon: the task's stdout and stderr are a binary:// URI (see
// BinaryURI), and the shim itself starts cmd/wincri-logger and hands it
// the container's output. The logger is the shim's child and lives as
// long as the task's IO; wincri only talks to it to reopen the file
// after kubelet rotated it (Reopen).
//
// How each shim starts it (containerd v2.4.2 runc-v2, hcsshim v0.15.0
// runhcs): the URI's path is the executable, every query key and its
// first value become two arguments, in Go map order, and
// CONTAINER_ID / CONTAINER_NAMESPACE are set. runc-v2 passes the read
// ends of two pipes as fds 3 (stdout) and 4 (stderr) and the write end of
// a readiness pipe as fd 5; with the binary-v2 scheme it fails the task's
// creation unless a byte arrives there before it closes. runhcs listens
// on three named pipes, passed as CONTAINER_STDOUT, CONTAINER_STDERR and
// CONTAINER_WAIT, which the logger dials; a byte or a close of the wait
// pipe says ready. On stop, runc-v2 closes its pipe ends and sends
// SIGTERM, waiting 12 s; runhcs closes its pipes and waits 10 s. The
// logger therefore reads to EOF and only gives up after DrainTimeout.
// runhcs binds the logger's process to the CreateTask request's context,
// so on Windows cmd/wincri-logger hands the work to a copy of itself.
//
// Reopen requests reach the logger over a control endpoint derived from
// a state directory and the container id (ControlAddress): a unix socket
// on Linux, a named pipe for SYSTEM and Administrators on Windows.
package logger
