package logkeys

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// literalKey finds a log call that spells an object key as a string
// instead of using this package's constants.
var literalKey = regexp.MustCompile(`(WithValues|\.Info|\.Error)\(.*"(podSandboxID|podID|sandbox|sandboxID|task|taskID|id|containerID|container|pod|execID|shimID|shimPid|image|imageID|handler)"[,)]`)

// TestNoLiteralObjectKeys keeps the keys in one place: a new log line
// that names a pod, container, task or image by a string literal fails.
func TestNoLiteralObjectKeys(t *testing.T) {
	for _, root := range []string{"../../pkg", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(data), "\n") {
				if literalKey.MatchString(line) {
					t.Errorf("%s:%d: use a logkeys constant: %s", path, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestLiteralKey(t *testing.T) {
	for line, want := range map[string]bool{
		`logger := m.logger.WithValues("topic", e.Topic, "id", e.ContainerID)`:      true,
		`klog.FromContext(ctx).Info("Shim cleanup warnings", "task", id)`:           true,
		`logger.Error(err, "Cleaning up", "podID", id)`:                             true,
		`logger.Error(err, "Cleaning up", logkeys.PodSandboxID, id)`:                false,
		`logger.Info("Pod sandbox ready", logkeys.Handler, h.Name, "isolation", x)`: false,
	} {
		if got := literalKey.MatchString(line); got != want {
			t.Errorf("literalKey(%s) = %v, want %v", line, got, want)
		}
	}
}
