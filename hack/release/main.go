// Command release packs wincri's Windows release zip from the binaries
// hack/release.sh built. It is run as
//
//	go run ./hack/release -version VERSION -bin-dir DIR -crictl FILE -out DIR [-src DIR] [-mtime UNIX]
//
// and writes OUT/wincri-VERSION-windows-amd64.zip, whose one top folder
// holds wincri.exe and wincri-logger.exe (from -bin-dir), crictl.exe,
// config.toml (config.WindowsDefault), the install and uninstall
// scripts and README.md of -src with their @PLACEHOLDERS@ filled in, and
// SHA256SUMS of all of them. It prints the zip's path.
//
// The zip is deterministic: entries sorted by name, every one with the
// -mtime modification time, so two packs of the same files are the same
// bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "release version, in the zip's and its folder's name")
	flag.StringVar(&o.binDir, "bin-dir", "", "directory holding wincri.exe and wincri-logger.exe built for windows/amd64")
	flag.StringVar(&o.crictl, "crictl", "", "crictl.exe built for windows/amd64")
	flag.StringVar(&o.srcDir, "src", "release/windows", "directory of the scripts and README.md shipped in the zip")
	flag.StringVar(&o.outDir, "out", "", "directory the zip is written to")
	mtime := flag.Int64("mtime", 315532800, "modification time of every entry, in seconds since 1970 (default 1980-01-01, the oldest a zip holds)")
	flag.Parse()
	o.mtime = time.Unix(*mtime, 0).UTC()

	path, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

type options struct {
	version, binDir, crictl, srcDir, outDir string
	mtime                                   time.Time
}

func run(o options) (string, error) {
	if o.binDir == "" || o.crictl == "" || o.outDir == "" {
		return "", fmt.Errorf("-bin-dir, -crictl and -out are required")
	}
	if err := checkVersion(o.version); err != nil {
		return "", err
	}
	files, err := assemble(o)
	if err != nil {
		return "", err
	}
	return writeZip(o.outDir, folderName(o.version), files, o.mtime)
}
