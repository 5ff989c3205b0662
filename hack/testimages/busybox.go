package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// busybox is the binary every test image is made of, as upstream's test
// images are made of upstream's busybox image.
type busybox struct {
	binary  []byte
	applets []string
	// libs maps the absolute path of the ELF interpreter and of every shared
	// library a dynamically linked busybox needs to its content; empty for
	// a static one.
	libs map[string][]byte
}

// libDirs is where the loader of a Debian amd64 system looks for libraries,
// in its order.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// loadBusybox reads the busybox binary at path, asks it for its applets and
// collects the shared libraries it needs.
func loadBusybox(ctx context.Context, path string) (*busybox, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	out, err := exec.CommandContext(ctx, path, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing the applets of %s: %w", path, err)
	}
	applets := parseApplets(string(out))
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s lists no applets", path)
	}
	libs := map[string][]byte{}
	if err := collectLibs(path, libs); err != nil {
		return nil, err
	}
	return &busybox{binary: bin, applets: applets, libs: libs}, nil
}

// parseApplets turns `busybox --list` output into a sorted, de-duplicated
// list of names that are safe as file names in /bin.
func parseApplets(out string) []string {
	seen := map[string]bool{}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		name := strings.TrimSpace(line)
		if name == "" || name == "busybox" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// collectLibs adds the ELF interpreter and the shared libraries that the
// binary at path needs, recursively, to libs. A static binary adds nothing.
func collectLibs(path string, libs map[string][]byte) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("reading ELF %s: %w", path, err)
	}
	defer f.Close()
	var wanted []string
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return fmt.Errorf("reading the interpreter of %s: %w", path, err)
		}
		wanted = append(wanted, strings.TrimRight(string(b), "\x00"))
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("reading the libraries of %s: %w", path, err)
	}
	for _, lib := range needed {
		found, err := findLib(lib)
		if err != nil {
			return fmt.Errorf("%s needs %s: %w", path, lib, err)
		}
		wanted = append(wanted, found)
	}
	for _, p := range wanted {
		if _, done := libs[p]; done {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		libs[p] = b
		if err := collectLibs(p, libs); err != nil {
			return err
		}
	}
	return nil
}

func findLib(name string) (string, error) {
	for _, dir := range libDirs {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(libDirs, ", "))
}

// Upstream busybox image's account files, so that users and groups resolve
// as the tests expect (www-data is 33, users is 100).
const (
	basePasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
	baseGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`
	baseShadow = `root:*:10933:0:99999:7:::
daemon:*:10933:0:99999:7:::
bin:*:10933:0:99999:7:::
sys:*:10933:0:99999:7:::
sync:*:10933:0:99999:7:::
mail:*:10933:0:99999:7:::
www-data:*:10933:0:99999:7:::
operator:*:10933:0:99999:7:::
nobody:*:10933:0:99999:7:::
`
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// baseTree lays out the file system of upstream's busybox image: every
// applet is a hard link to /bin/busybox, not a symbolic link, so that
// masking one applet (MaskedPaths of /bin/ls) does not mask busybox itself.
func (b *busybox) baseTree() (*tree, error) {
	t := newTree()
	for _, d := range []struct {
		name string
		mode int64
	}{
		{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"home", 0o755},
		{"root", 0o700}, {"tmp", 0o1777}, {"usr/sbin", 0o755},
		{"var/spool/mail", 0o755}, {"var/www", 0o755},
	} {
		if err := t.dir(d.name, d.mode); err != nil {
			return nil, err
		}
	}
	if err := t.file("bin/busybox", 0o755, b.binary); err != nil {
		return nil, err
	}
	has := map[string]bool{}
	for _, a := range b.applets {
		has[a] = true
		if err := t.hardlink("bin/"+a, "bin/busybox"); err != nil {
			return nil, err
		}
	}
	standIns := make([]string, 0, len(appletStandIns))
	for name := range appletStandIns {
		standIns = append(standIns, name)
	}
	sort.Strings(standIns)
	for _, name := range standIns {
		if has[name] {
			continue
		}
		if err := t.file("bin/"+name, 0o755, []byte(appletStandIns[name])); err != nil {
			return nil, err
		}
	}
	libPaths := make([]string, 0, len(b.libs))
	for p := range b.libs {
		libPaths = append(libPaths, p)
	}
	sort.Strings(libPaths)
	for _, p := range libPaths {
		if err := t.file(p, 0o755, b.libs[p]); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		mode int64
		data string
	}{
		{"etc/passwd", 0o644, basePasswd},
		{"etc/group", 0o644, baseGroup},
		{"etc/shadow", 0o600, baseShadow},
	} {
		if err := t.file(f.name, f.mode, []byte(f.data)); err != nil {
			return nil, err
		}
	}
	return t, nil
}
