//go:build windows

package main

import (
	"fmt"
	"time"

	"github.com/Microsoft/go-winio"
)

// prime connects to a named pipe once and hangs up. Wine, unlike
// Windows, lets the first client reach go-winio's placeholder instance
// (created without read or write access, so that Windows refuses clients
// until a listening instance exists), where nothing answers; the Wine
// suite takes that connection before the clients under test connect.
func prime(path string) (map[string]string, error) {
	timeout := 10 * time.Second
	conn, err := winio.DialPipe(path, &timeout)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", path, err)
	}
	return map[string]string{"primed": path}, conn.Close()
}
