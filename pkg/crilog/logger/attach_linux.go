package logger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// attachAddress is the abstract unix socket of container id's live
// output. Abstract sockets vanish with their process, so a killed
// logger leaves nothing behind; they have no file permissions, so
// listenAttach admits only peers with the logger's own user id. The
// state directory is hashed in to keep two wincri instances apart.
func attachAddress(stateDir, id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("logger: container id %q: %w", id, errdefs.ErrInvalidArgument)
	}
	sum := sha256.Sum256([]byte(filepath.Clean(stateDir)))
	return "@wincri-log-" + hex.EncodeToString(sum[:8]) + "-" + id, nil
}

func listenAttach(addr string) (net.Listener, error) {
	l, err := net.Listen("unix", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for attach clients: %w", err)
	}
	return sameUserListener{Listener: l, uid: uint32(os.Geteuid())}, nil
}

// sameUserListener drops connections from other users.
type sameUserListener struct {
	net.Listener
	uid uint32
}

func (l sameUserListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if peerUID(conn) == int64(l.uid) {
			return conn, nil
		}
		_ = conn.Close()
	}
}

// peerUID is the connecting process's user id, -1 when unknown.
func peerUID(conn net.Conn) int64 {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return -1
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1
	}
	uid := int64(-1)
	_ = raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			uid = int64(cred.Uid)
		}
	})
	return uid
}
