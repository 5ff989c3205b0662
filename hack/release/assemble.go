package main

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/version"
)

// file is one file of the release folder.
type file struct {
	name string
	data []byte
	exec bool
}

const (
	hcsshimModule = "github.com/Microsoft/hcsshim"
	sumsName      = "SHA256SUMS"
)

// sources are the files of -src shipped in the zip, placeholders filled.
var sources = []string{"Install-Wincri.ps1", "Uninstall-Wincri.ps1", "README.md"}

// placeholder is an @NAME@ left in a source file.
var placeholder = regexp.MustCompile(`@[A-Z][A-Z0-9_]*@`)

var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// folderName is the zip's top folder, and the zip's name without ".zip".
func folderName(version string) string { return "wincri-" + version + "-windows-amd64" }

func checkVersion(v string) error {
	if !versionPattern.MatchString(v) {
		return fmt.Errorf("-version %q: want letters, digits and . _ + - only", v)
	}
	return nil
}

// assemble reads and makes every file of the release folder, SHA256SUMS
// last.
func assemble(o options) ([]file, error) {
	wincri, wincriInfo, err := readBinary(filepath.Join(o.binDir, "wincri.exe"))
	if err != nil {
		return nil, err
	}
	logger, _, err := readBinary(filepath.Join(o.binDir, "wincri-logger.exe"))
	if err != nil {
		return nil, err
	}
	crictl, crictlInfo, err := readBinary(o.crictl)
	if err != nil {
		return nil, err
	}
	crictl.name = "crictl.exe"
	// The shim version is the one wincri.exe reports (wincri version,
	// wincri shim-version): its build's hcsshim.
	shim := version.DepVersion(wincriInfo, hcsshimModule)
	if shim == "" {
		return nil, fmt.Errorf("wincri.exe has no %s in its build information", hcsshimModule)
	}
	cfg, err := config.Render(config.WindowsDefault())
	if err != nil {
		return nil, fmt.Errorf("rendering config.toml: %w", err)
	}
	files := []file{wincri, logger, crictl, {name: "config.toml", data: cfg}}
	values := map[string]string{
		"VERSION":         o.version,
		"HCSSHIM_VERSION": shim,
		"CRICTL_VERSION":  crictlInfo.Main.Version,
	}
	for _, name := range sources {
		f, err := fill(filepath.Join(o.srcDir, name), values)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return append(files, sums(files)), nil
}

// readBinary reads a Go program built for windows/amd64.
func readBinary(path string) (file, *debug.BuildInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return file{}, nil, err
	}
	info, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return file{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	var goos, goarch string
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "windows" || goarch != "amd64" {
		return file{}, nil, fmt.Errorf("%s is built for %s/%s, not windows/amd64", path, goos, goarch)
	}
	return file{name: filepath.Base(path), data: data, exec: true}, info, nil
}

// fill reads a source file and replaces its @NAME@ placeholders by
// values; one left over is an error.
func fill(path string, values map[string]string) (file, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return file{}, err
	}
	text := string(data)
	for k, v := range values {
		text = strings.ReplaceAll(text, "@"+k+"@", v)
	}
	if left := placeholder.FindAllString(text, -1); len(left) > 0 {
		return file{}, fmt.Errorf("%s: unknown placeholders %s", path, strings.Join(left, ", "))
	}
	return file{name: filepath.Base(path), data: []byte(text)}, nil
}

// sums is SHA256SUMS of files, in sha256sum's format, sorted by name.
func sums(files []file) file {
	sorted := append([]file(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	var b strings.Builder
	for _, f := range sorted {
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(f.data), f.name)
	}
	return file{name: sumsName, data: []byte(b.String())}
}
