package isolation

import "path"

// passthrough returns the annotations whose keys match one of patterns,
// matched as containerd does (internal/cri/util/util.go,
// GetPassthroughAnnotations): path.Match, which, unlike filepath.Match on
// Windows, takes a backslash as an escape and "/" as the only separator.
func passthrough(annotations map[string]string, patterns []string) map[string]string {
	out := make(map[string]string)
	for k, v := range annotations {
		for _, p := range patterns {
			if ok, _ := path.Match(p, k); ok {
				out[k] = v
				break
			}
		}
	}
	return out
}
