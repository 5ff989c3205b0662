// Command nonewprivs is the program of the nonewprivs test image. Installed
// set-uid root, it prints its effective uid: 0 when the runtime lets it gain
// privileges, the caller's uid when the container runs with no_new_privs.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
}
