package isolation

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerArgs is the argv of a container's first process, by the rules
// Docker defined and kubelet documents for command/args:
//
//   - neither command nor args: image Entrypoint + image Cmd;
//   - args only: image Entrypoint + args;
//   - command (with or without args): command + args; the image's Cmd is
//     never used once command is set, and neither is its Entrypoint.
//
// An empty result is an errdefs.ErrInvalidArgument.
func ContainerArgs(command, args []string, img imagespec.ImageConfig) ([]string, error) {
	var argv []string
	if len(command) == 0 {
		argv = append(argv, img.Entrypoint...)
		if len(args) == 0 {
			args = img.Cmd
		}
	} else {
		argv = append(argv, command...)
	}
	argv = append(argv, args...)
	if len(argv) == 0 || argv[0] == "" {
		return nil, fmt.Errorf("no command: neither the container config nor the image sets one: %w", errdefs.ErrInvalidArgument)
	}
	return argv, nil
}

// ContainerEnv merges the environment: a default PATH and HOSTNAME, then
// the image's variables, then the CRI's, a later value replacing an
// earlier one of the same name in place.
func ContainerEnv(hostname string, imageEnv []string, criEnv []*runtimeapi.KeyValue) ([]string, error) {
	env := []string{defaultPathEnv}
	if hostname != "" {
		env = append(env, "HOSTNAME="+hostname)
	}
	index := map[string]int{"PATH": 0}
	if hostname != "" {
		index["HOSTNAME"] = 1
	}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			return
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	for _, kv := range imageEnv {
		if kv != "" {
			set(kv)
		}
	}
	for _, kv := range criEnv {
		if kv.GetKey() == "" || strings.ContainsAny(kv.GetKey(), "=\x00") {
			return nil, fmt.Errorf("envs: variable name %q is empty or holds '=' or NUL: %w", kv.GetKey(), errdefs.ErrInvalidArgument)
		}
		// The value is bytes on the wire so that it may hold any
		// encoding, but a NUL cannot pass through execve.
		if bytes.IndexByte(kv.GetValue(), 0) >= 0 {
			return nil, fmt.Errorf("envs: the value of %q holds NUL: %w", kv.GetKey(), errdefs.ErrInvalidArgument)
		}
		set(kv.GetKey() + "=" + string(kv.GetValue()))
	}
	return env, nil
}

// ContainerWorkingDir is the CRI working_dir, else the image's, else "/";
// it must be absolute (runc would otherwise resolve it against "/"
// silently, which hides a broken image or pod spec).
func ContainerWorkingDir(criDir, imageDir string) (string, error) {
	dir := criDir
	if dir == "" {
		dir = imageDir
	}
	if dir == "" {
		return "/", nil
	}
	if !path.IsAbs(dir) {
		return "", fmt.Errorf("working_dir %q must be an absolute path: %w", dir, errdefs.ErrInvalidArgument)
	}
	return path.Clean(dir), nil
}
