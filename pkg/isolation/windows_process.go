package isolation

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// windowsDefaultCwd is where a Windows process starts when neither the
// CRI config nor the image names a working directory.
const windowsDefaultCwd = `C:\`

// windowsCommand sets the process's Args, or its CommandLine for images
// whose command is pre-escaped, following the rules of Docker and
// kubelet: a CRI command replaces the image Entrypoint and drops the
// image Cmd; CRI args replace the image Cmd.
func windowsCommand(p *specs.Process, command, args []string, img *imagespec.ImageConfig) error {
	var entrypoint, cmd []string
	fromImage := false
	switch {
	case len(command) > 0:
		entrypoint, cmd = command, args
	case len(args) > 0:
		entrypoint, cmd = img.Entrypoint, args
		fromImage = len(img.Entrypoint) > 0
	default:
		entrypoint, cmd = img.Entrypoint, img.Cmd
		fromImage = true
	}
	all := append(append([]string{}, entrypoint...), cmd...)
	if len(all) == 0 {
		return fmt.Errorf("no command to run: neither the container config nor the image names one: %w", errdefs.ErrInvalidArgument)
	}
	// Docker marks Windows images built from the shell form of
	// ENTRYPOINT/CMD with ArgsEscaped: their first element is a complete,
	// already escaped command line. Escaping it again would break it, so
	// it goes into CommandLine as it is, with the remaining arguments
	// escaped behind it.
	//lint:ignore SA1019 deprecated for new images, but Windows images built by Docker still carry it (as hcsshim and containerd read it)
	if fromImage && img.ArgsEscaped {
		line := all[0]
		for _, a := range all[1:] {
			line += " " + escapeWindowsArg(a)
		}
		p.CommandLine = line
		return nil
	}
	p.Args = all
	return nil
}

// escapeWindowsArg quotes s the way the Microsoft C runtime splits a
// command line back into arguments: backslashes are literal unless they
// precede a double quote, where they and the quote are escaped.
func escapeWindowsArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			slashes++
			b.WriteByte(c)
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			b.WriteByte(c)
			slashes = 0
		default:
			slashes = 0
			b.WriteByte(c)
		}
	}
	// Backslashes before the closing quote must not escape it.
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// mergeWindowsEnv returns the image environment overlaid with the CRI
// one, CRI winning. Windows environment names are case-insensitive, so
// "Path" from the CRI replaces the image's "PATH" in place.
func mergeWindowsEnv(image []string, cri []*runtimeapi.KeyValue) ([]string, error) {
	env := make([]string, 0, len(image)+len(cri))
	index := make(map[string]int, len(image)+len(cri))
	set := func(key, value string) {
		entry := key + "=" + value
		if i, ok := index[strings.ToUpper(key)]; ok {
			env[i] = entry
			return
		}
		index[strings.ToUpper(key)] = len(env)
		env = append(env, entry)
	}
	for _, e := range image {
		key, value, _ := strings.Cut(e, "=")
		if key == "" {
			continue
		}
		set(key, value)
	}
	for _, kv := range cri {
		if kv.GetKey() == "" || strings.Contains(kv.GetKey(), "=") {
			return nil, fmt.Errorf("environment variable name %q is empty or contains '=': %w", kv.GetKey(), errdefs.ErrInvalidArgument)
		}
		set(kv.GetKey(), string(kv.GetValue()))
	}
	return env, nil
}

// windowsProcess builds a container or sandbox process from the CRI
// request parts and the image config (nil for none).
func windowsProcess(command, args []string, workingDir, username string, envs []*runtimeapi.KeyValue, tty bool, img *imagespec.ImageConfig) (*specs.Process, error) {
	if img == nil {
		img = &imagespec.ImageConfig{}
	}
	p := &specs.Process{Terminal: tty, Cwd: workingDir}
	if err := windowsCommand(p, command, args, img); err != nil {
		return nil, err
	}
	env, err := mergeWindowsEnv(img.Env, envs)
	if err != nil {
		return nil, err
	}
	p.Env = env
	if p.Cwd == "" {
		p.Cwd = img.WorkingDir
	}
	if p.Cwd == "" {
		p.Cwd = windowsDefaultCwd
	}
	p.User.Username = username
	if p.User.Username == "" {
		p.User.Username = img.User
	}
	return p, nil
}
