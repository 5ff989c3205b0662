//go:build windows

// Command winprobe runs under Wine for the Wine suite (test/wine): it
// does, with wincri's own packages, what the suite cannot do from Linux,
// and prints the outcome as one JSON object on stdout.
//
//	winprobe prime PIPE             connect to a named pipe once (see prime)
//	winprobe sddl PIPE              the security descriptor of a named pipe
//	winprobe shim BINARY STATEDIR   launch a shim as wincri does, connect, shut it down
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "winprobe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: winprobe prime|sddl PIPE | winprobe shim BINARY STATEDIR")
	}
	var (
		out any
		err error
	)
	switch {
	case args[0] == "prime" && len(args) == 2:
		out, err = prime(args[1])
	case args[0] == "sddl" && len(args) == 2:
		out, err = pipeSDDL(args[1])
	case args[0] == "shim" && len(args) == 3:
		out, err = launchShim(args[1], args[2])
	default:
		return fmt.Errorf("unknown command %q", args)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
