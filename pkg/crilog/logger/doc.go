// Package logger is the process that writes a container's CRI log while
// the container runs, and the calls wincri makes to it.
//
// The log must keep flowing while wincri restarts, so it is not written
// by the daemon. On Linux the task's stdout and stderr are a binary://
// URI (see BinaryURI), and the shim itself starts cmd/wincri-logger and
// hands it the container's output; the logger is the shim's child and
// lives as long as the task's IO. On Windows wincri starts the logger
// (Args), which creates the named pipes runhcs dials for the task's
// stdin, stdout and stderr (Pipes, OpenStdio) and relays attach clients'
// input to stdin: runhcs gives stdin and terminals only to named pipe IO.
// wincri otherwise only talks to the logger to reopen the file after
// kubelet rotated it (Reopen) and to attach.
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
// runhcs binds a binary:// logger's process to the CreateTask request's
// context, which is one more reason wincri starts its own on Windows.
//
// Reopen requests reach the logger over a control endpoint derived from
// a state directory and the container id (ControlAddress): a unix socket
// on Linux, a named pipe for SYSTEM and Administrators on Windows.
package logger
