package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	validate  = "/tmp/critest-src/pkg/validate/"
	framework = "/tmp/critest-src/pkg/framework/framework.go"
)

// spec writes one SpecReport as ginkgo does for critest: the outermost
// container is framework.KubeDescribe's, in pkg/framework.
func spec(nodeType, containerFile, leaf, state string) string {
	containers := `"ContainerHierarchyTexts":["[sig-node] Suite"],"ContainerHierarchyLocations":[{"FileName":"` + framework + `","LineNumber":3},{"FileName":"` + validate + containerFile + `","LineNumber":10}],`
	if containerFile == "" {
		containers = ""
	}
	return `{` + containers + `"LeafNodeType":"` + nodeType + `","LeafNodeLocation":{"FileName":"` + validate + `x.go","LineNumber":20},"LeafNodeText":"` + leaf + `","State":"` + state + `"}`
}

func report(specs ...string) string {
	return `[{"SuiteDescription":"critest","SpecReports":[` + strings.Join(specs, ",") + `]}]`
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name            string
		json            string
		required, linux counts
		failedRequired  []string
		ok              bool
		lastLine        string
	}{
		{
			name: "all passed",
			json: report(
				spec("It", "image.go", "pull", "passed"),
				spec("It", "container.go", "start", "passed"),
				spec("It", "security_context_linux.go", "nnp", "passed"),
				spec("SynchronizedBeforeSuite", "", "", "passed"),
			),
			required: counts{passed: 2}, linux: counts{passed: 1},
			ok: true, lastLine: "critest: 3 passed, 0 failed, 0 skipped",
		},
		{
			name: "a Linux-only failure is reported but not required",
			json: report(
				spec("It", "pod.go", "run", "passed"),
				spec("It", "apparmor_linux.go", "deny", "failed"),
				spec("It", "image.go", "digest", "skipped"),
			),
			required: counts{passed: 1, skipped: 1}, linux: counts{failed: 1},
			ok: true, lastLine: "critest: 1 passed, 1 failed, 1 skipped",
		},
		{
			name: "required failures of every failing state",
			json: report(
				spec("It", "pod.go", "a", "failed"),
				spec("It", "pod.go", "b", "panicked"),
				spec("It", "streaming.go", "c", "timedout"),
				spec("It", "networking.go", "d", "interrupted"),
				spec("It", "networking.go", "e", "pending"),
			),
			required:       counts{failed: 4, skipped: 1},
			failedRequired: []string{"[sig-node] Suite a (x.go:20)", "[sig-node] Suite b (x.go:20)", "[sig-node] Suite c (x.go:20)", "[sig-node] Suite d (x.go:20)"},
			lastLine:       "critest: 0 passed, 4 failed, 1 skipped",
		},
		{
			name: "a failed suite node fails the run",
			json: report(
				spec("SynchronizedBeforeSuite", "", "", "failed"),
				spec("It", "pod.go", "a", "skipped"),
			),
			required:       counts{failed: 1, skipped: 1},
			failedRequired: []string{"[SynchronizedBeforeSuite] (x.go:20)"},
			lastLine:       "critest: 0 passed, 1 failed, 1 skipped",
		},
		{
			name:           "the failure's first line is kept",
			json:           report(`{"ContainerHierarchyTexts":["[sig-node] Pod"],"LeafNodeType":"It","LeafNodeLocation":{"FileName":"` + validate + `pod.go","LineNumber":7},"LeafNodeText":"run","State":"failed","Failure":{"Message":"rpc error: Unimplemented\nmore detail"}}`),
			required:       counts{failed: 1},
			failedRequired: []string{"[sig-node] Pod run (pod.go:7): rpc error: Unimplemented"},
			lastLine:       "critest: 0 passed, 1 failed, 0 skipped",
		},
		{
			name:           "gomega's error header is skipped",
			json:           report(`{"LeafNodeType":"It","LeafNodeLocation":{"FileName":"` + validate + `pod.go","LineNumber":7},"LeafNodeText":"run","State":"failed","Failure":{"Message":"Unexpected error:\n    <*fmt.wrapError | 0xc0>: \n    validate service connection: Unimplemented\n    {"}}`),
			required:       counts{failed: 1},
			failedRequired: []string{"run (pod.go:7): validate service connection: Unimplemented"},
			lastLine:       "critest: 0 passed, 1 failed, 0 skipped",
		},
		{
			name: "a skip of a spec wincri must pass fails the run",
			json: report(
				spec("It", "image_volume.go", "should reject Image Volume with Readonly set to false", "skipped"),
				spec("It", "pod.go", "a", "passed"),
			),
			required:       counts{passed: 1, failed: 1},
			failedRequired: []string{"[sig-node] Suite should reject Image Volume with Readonly set to false (x.go:20): skipped, but wincri must pass it"},
			lastLine:       "critest: 1 passed, 1 failed, 0 skipped",
		},
		{
			name:     "nothing ran",
			json:     report(spec("It", "pod.go", "a", "skipped")),
			required: counts{skipped: 1},
			lastLine: "critest: 0 passed, 0 failed, 1 skipped",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reports, err := parse(strings.NewReader(tc.json))
			require.NoError(t, err)
			s := summarize(reports)
			assert.Equal(t, tc.required, s.required, "required")
			assert.Equal(t, tc.linux, s.linuxOnly, "Linux-only")
			assert.Equal(t, tc.failedRequired, s.failedRequired)
			assert.Equal(t, tc.ok, s.ok())
			var out bytes.Buffer
			s.write(&out)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			assert.Equal(t, tc.lastLine, lines[len(lines)-1])
			assert.Equal(t, 1, strings.Count(out.String(), "critest: "), "exactly one critest line")
		})
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "{", `{"SpecReports":[]}`} {
		_, err := parse(strings.NewReader(in))
		assert.Error(t, err, "%q", in)
	}
}
