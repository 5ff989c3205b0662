package logger

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// MaxMaxLineSize bounds Options.MaxLineSize: each stream buffers up to
// one line of that size.
const MaxMaxLineSize = 1 << 20

// Query keys of the binary URI, which arrive as argument pairs.
const (
	argID          = "id"
	argLogDir      = "log-dir"
	argLogPath     = "log-path"
	argStateDir    = "state-dir"
	argMaxLineSize = "max-line-size"
	argStdin       = "stdin"
	argTerminal    = "tty"
)

// validID keeps ids safe to put into a socket or pipe name: 1 to 128
// letters, digits, '_', '.' or '-', the first a letter or digit. It is
// the regular expression ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ written out:
// compiled, that expression's 128 repetitions took 118 KB of heap in
// wincri and in every logger process, and 1 ms of their start.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Options configure one container's logger. They travel to it as the
// query of the binary URI.
type Options struct {
	// ID is the container id; it names the control endpoint.
	ID string
	// LogDirectory is the pod's log directory, an absolute path; the
	// logger never writes outside it.
	LogDirectory string
	// LogPath is the container's log file relative to LogDirectory, as
	// checked by crilog.ResolveLogPath.
	LogPath string
	// StateDir is an absolute directory for the loggers' control
	// endpoints; Reopen needs the same value. Keep it short on Linux: a
	// unix socket path holds at most 107 bytes.
	StateDir string
	// MaxLineSize bounds a record's content; longer lines are split into
	// partial records. 0 means crilog.DefaultMaxLineSize.
	MaxLineSize int
	// Stdin and Terminal say which stdio endpoints a logger that serves
	// its task's pipes (Windows, see Pipes) creates. They travel as
	// arguments (Args), never in a binary URI.
	Stdin, Terminal bool
}

// NoLog reports a logger that keeps no log file and only serves the
// output live to attach clients: a container with stdin but no log path.
func (o Options) NoLog() bool { return o.LogDirectory == "" && o.LogPath == "" }

// Validate reports the first invalid field as errdefs.ErrInvalidArgument.
func (o Options) Validate() error {
	switch {
	case !validID(o.ID):
		return fmt.Errorf("logger: container id %q must be 1-128 letters, digits, '_', '.' or '-': %w", o.ID, errdefs.ErrInvalidArgument)
	case o.NoLog():
		// Attach only: the output is served live and kept nowhere.
	case !filepath.IsAbs(o.LogDirectory):
		return fmt.Errorf("logger: log directory %q must be absolute: %w", o.LogDirectory, errdefs.ErrInvalidArgument)
	case !filepath.IsLocal(o.LogPath) || filepath.Clean(o.LogPath) == ".":
		return fmt.Errorf("logger: log path %q must name a file inside the log directory: %w", o.LogPath, errdefs.ErrInvalidArgument)
	case !filepath.IsAbs(o.StateDir):
		return fmt.Errorf("logger: state directory %q must be absolute: %w", o.StateDir, errdefs.ErrInvalidArgument)
	case o.MaxLineSize < 0 || o.MaxLineSize > MaxMaxLineSize:
		return fmt.Errorf("logger: max line size %d must be within 0-%d: %w", o.MaxLineSize, MaxMaxLineSize, errdefs.ErrInvalidArgument)
	}
	if _, err := ControlAddress(o.StateDir, o.ID); err != nil {
		return err
	}
	return nil
}

// BinaryURI returns the stdio URI that makes the shim start the logger
// at loggerPath (absolute) for a container configured by o. Put it into
// both Stdout and Stderr of the task's CreateTask request and leave
// Stdin empty; it cannot serve a terminal or stdin.
func BinaryURI(loggerPath string, o Options) (string, error) {
	if !filepath.IsAbs(loggerPath) {
		return "", fmt.Errorf("logger: executable path %q must be absolute: %w", loggerPath, errdefs.ErrInvalidArgument)
	}
	if err := o.Validate(); err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set(argID, o.ID)
	if !o.NoLog() {
		q.Set(argLogDir, o.LogDirectory)
		q.Set(argLogPath, o.LogPath)
	}
	q.Set(argStateDir, o.StateDir)
	if o.MaxLineSize != 0 {
		q.Set(argMaxLineSize, strconv.Itoa(o.MaxLineSize))
	}
	// Three slashes before a drive letter, as containerd's
	// cio.LogURIGenerator does: "binary://C:/x" would make C: the host.
	p := filepath.ToSlash(loggerPath)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := url.URL{Scheme: uriScheme, Path: p, RawQuery: q.Encode()}
	return u.String(), nil
}

// Args is the command line of a logger that wincri starts itself to
// serve its task's pipes (Windows): what ParseArgs reads back.
func Args(o Options) ([]string, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	args := []string{argID, o.ID, argStateDir, o.StateDir}
	if !o.NoLog() {
		args = append(args, argLogDir, o.LogDirectory, argLogPath, o.LogPath)
	}
	if o.MaxLineSize != 0 {
		args = append(args, argMaxLineSize, strconv.Itoa(o.MaxLineSize))
	}
	return append(args, argStdin, strconv.FormatBool(o.Stdin), argTerminal, strconv.FormatBool(o.Terminal)), nil
}

// DefaultBinaryPath is wincri-logger next to the running executable,
// where a wincri release installs it.
func DefaultBinaryPath() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("logger: find own executable: %w", err)
	}
	return filepath.Join(filepath.Dir(self), binaryName), nil
}

// ParseArgs reads the logger's command line: key value pairs in any
// order, as the shims produce them from the URI query.
func ParseArgs(args []string) (Options, error) {
	if len(args)%2 != 0 {
		return Options{}, fmt.Errorf("logger: arguments must be key value pairs, got %d: %w", len(args), errdefs.ErrInvalidArgument)
	}
	var o Options
	seen := map[string]bool{}
	for i := 0; i < len(args); i += 2 {
		key, value := args[i], args[i+1]
		if seen[key] {
			return Options{}, fmt.Errorf("logger: argument %q given twice: %w", key, errdefs.ErrInvalidArgument)
		}
		seen[key] = true
		switch key {
		case argID:
			o.ID = value
		case argLogDir:
			o.LogDirectory = value
		case argLogPath:
			o.LogPath = value
		case argStateDir:
			o.StateDir = value
		case argStdin, argTerminal:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return Options{}, fmt.Errorf("logger: %s %q: %w", key, value, errdefs.ErrInvalidArgument)
			}
			if key == argStdin {
				o.Stdin = b
			} else {
				o.Terminal = b
			}
		case argMaxLineSize:
			n, err := strconv.Atoi(value)
			if err != nil {
				return Options{}, fmt.Errorf("logger: %s %q: %w", argMaxLineSize, value, errdefs.ErrInvalidArgument)
			}
			o.MaxLineSize = n
		default:
			return Options{}, fmt.Errorf("logger: unknown argument %q: %w", key, errdefs.ErrInvalidArgument)
		}
	}
	if err := o.Validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}
