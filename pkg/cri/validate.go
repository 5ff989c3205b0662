package cri

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/containerd/errdefs"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Limits on what a request may carry. kubelet's own values stay far
// below them; they exist so that no request can make wincri keep or log
// unbounded data.
const (
	maxNameLen       = 253
	maxIDLen         = 128
	maxLabelValueLen = 63 * 1024
	maxAnnotations   = 256 * 1024
)

var labelKeyRE = regexp.MustCompile(`^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

func validateString(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	if strings.ContainsRune(s, 0) {
		return invalid("%s contains a NUL byte", field)
	}
	if len(s) > max {
		return invalid("%s is %d bytes long, at most %d are allowed", field, len(s), max)
	}
	return nil
}

// validateName checks a metadata name or handler: UTF-8, no control
// characters, bounded; empty only where allowed.
func validateName(field, s string, emptyOK bool) error {
	if s == "" {
		if emptyOK {
			return nil
		}
		return invalid("%s must not be empty", field)
	}
	if err := validateString(field, s, maxNameLen); err != nil {
		return err
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return invalid("%s %q contains the character %q", field, s, r)
		}
	}
	return nil
}

// validateID checks an object id or id prefix.
func validateID(field, id string) error {
	if id == "" {
		return invalid("%s must not be empty", field)
	}
	if err := validateString(field, id, maxIDLen); err != nil {
		return err
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.') {
			return invalid("%s %q contains the character %q", field, id, r)
		}
	}
	return nil
}

func validateLabels(field string, labels map[string]string) error {
	for k, v := range labels {
		if !labelKeyRE.MatchString(k) || len(k) > maxNameLen+64 {
			return invalid("%s: %q is not a valid label key", field, k)
		}
		if err := validateString(fmt.Sprintf("%s[%q]", field, k), v, maxLabelValueLen); err != nil {
			return err
		}
	}
	return nil
}

func validateAnnotations(field string, annotations map[string]string) error {
	total := 0
	for k, v := range annotations {
		if k == "" {
			return invalid("%s: an annotation key must not be empty", field)
		}
		if err := validateString(field+" key", k, maxNameLen+64); err != nil {
			return err
		}
		if err := validateString(fmt.Sprintf("%s[%q]", field, k), v, maxAnnotations); err != nil {
			return err
		}
		total += len(k) + len(v)
	}
	if total > maxAnnotations {
		return invalid("%s total %d bytes, at most %d are allowed", field, total, maxAnnotations)
	}
	return nil
}

func validatePodSandboxConfig(cfg *runtime.PodSandboxConfig) error {
	if cfg == nil {
		return invalid("config must be set")
	}
	md := cfg.GetMetadata()
	if md == nil {
		return invalid("config.metadata must be set")
	}
	for _, f := range []struct{ name, v string }{
		{"config.metadata.name", md.GetName()},
		{"config.metadata.namespace", md.GetNamespace()},
		{"config.metadata.uid", md.GetUid()},
	} {
		if err := validateName(f.name, f.v, false); err != nil {
			return err
		}
	}
	if err := validateString("config.hostname", cfg.GetHostname(), maxNameLen); err != nil {
		return err
	}
	if err := validateString("config.log_directory", cfg.GetLogDirectory(), 4096); err != nil {
		return err
	}
	if d := cfg.GetLogDirectory(); d != "" && !isAbs(d) {
		return invalid("config.log_directory %q must be an absolute path", d)
	}
	for i, pm := range cfg.GetPortMappings() {
		if pm.GetContainerPort() < 0 || pm.GetContainerPort() > 65535 || pm.GetHostPort() < 0 || pm.GetHostPort() > 65535 {
			return invalid("config.port_mappings[%d]: ports must be within 0-65535", i)
		}
	}
	if err := validateLabels("config.labels", cfg.GetLabels()); err != nil {
		return err
	}
	return validateAnnotations("config.annotations", cfg.GetAnnotations())
}

func validateContainerConfig(cfg *runtime.ContainerConfig) error {
	if cfg == nil {
		return invalid("config must be set")
	}
	if cfg.GetMetadata() == nil {
		return invalid("config.metadata must be set")
	}
	if err := validateName("config.metadata.name", cfg.GetMetadata().GetName(), false); err != nil {
		return err
	}
	if cfg.GetImage().GetImage() == "" {
		return invalid("config.image.image must be set")
	}
	if err := validateString("config.image.image", cfg.GetImage().GetImage(), 4096); err != nil {
		return err
	}
	if err := validateString("config.log_path", cfg.GetLogPath(), 4096); err != nil {
		return err
	}
	if err := validateArgs("config.command", cfg.GetCommand()); err != nil {
		return err
	}
	if err := validateArgs("config.args", cfg.GetArgs()); err != nil {
		return err
	}
	if err := validateString("config.working_dir", cfg.GetWorkingDir(), maxPathLen); err != nil {
		return err
	}
	for i, m := range cfg.GetMounts() {
		field := fmt.Sprintf("config.mounts[%d]", i)
		if err := validatePath(field+".container_path", m.GetContainerPath(), true); err != nil {
			return err
		}
		if m.GetImage() == nil {
			if err := validatePath(field+".host_path", m.GetHostPath(), true); err != nil {
				return err
			}
		} else if !m.GetReadonly() {
			return invalid("%s %q: an image volume must be read-only", field, m.GetContainerPath())
		}
	}
	for i, d := range cfg.GetDevices() {
		field := fmt.Sprintf("config.devices[%d]", i)
		if err := validatePath(field+".host_path", d.GetHostPath(), false); err != nil {
			return err
		}
		if err := validatePath(field+".container_path", d.GetContainerPath(), false); err != nil {
			return err
		}
	}
	for i, kv := range cfg.GetEnvs() {
		if err := validateString(fmt.Sprintf("config.envs[%d]", i), kv.GetKey()+string(kv.GetValue()), maxAnnotations); err != nil {
			return err
		}
	}
	if err := validateLabels("config.labels", cfg.GetLabels()); err != nil {
		return err
	}
	return validateAnnotations("config.annotations", cfg.GetAnnotations())
}

// Argument limits: Linux refuses a single argument over 128 KiB
// (MAX_ARG_STRLEN) and a whole argument list over 2 MiB.
const (
	maxArgLen   = 128 << 10
	maxArgsLen  = 1 << 20
	maxPathLen  = 4096
	maxArgCount = 4096
)

func validateArgs(field string, args []string) error {
	if len(args) > maxArgCount {
		return invalid("%s has %d arguments, at most %d are allowed", field, len(args), maxArgCount)
	}
	total := 0
	for i, a := range args {
		if err := validateString(fmt.Sprintf("%s[%d]", field, i), a, maxArgLen); err != nil {
			return err
		}
		total += len(a)
	}
	if total > maxArgsLen {
		return invalid("%s totals %d bytes, at most %d are allowed", field, total, maxArgsLen)
	}
	return nil
}

// validatePath checks a path the runtime will mount or create: set,
// UTF-8, bounded, absolute and without ".." elements. A Windows named
// pipe (\\.\pipe\name) counts as absolute.
func validatePath(field, p string, required bool) error {
	if p == "" {
		if required {
			return invalid("%s must be set", field)
		}
		return nil
	}
	if err := validateString(field, p, maxPathLen); err != nil {
		return err
	}
	if !isAbs(p) {
		return invalid("%s %q must be an absolute path", field, p)
	}
	for _, elem := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if elem == ".." {
			return invalid("%s %q must not contain \"..\"", field, p)
		}
	}
	return nil
}

// isAbs accepts absolute paths of either OS: a Linux "/..." path, a
// Windows drive path or a UNC / named pipe path.
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}
