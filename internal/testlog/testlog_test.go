package testlog

import (
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/klog/v2/ktesting"
)

func TestUnexpected(t *testing.T) {
	errBoom := errors.New("boom")
	log := ktesting.Log{
		{Type: ktesting.LogInfo, Message: "Pod ready"},
		{Type: ktesting.LogError, Message: "Shim is gone", Err: errBoom},
		{Type: ktesting.LogError, Message: "Recording a container exit", Err: errBoom},
		{Type: ktesting.LogError, Message: "Shim log", ParameterKVList: []any{"line", "level=error"}},
	}
	for _, tc := range []struct {
		name     string
		expected []string
		want     []string
	}{
		{name: "nothing expected", want: []string{"Shim is gone: boom", "Recording a container exit: boom", "Shim log: <nil> line=level=error"}},
		{name: "one expected by message", expected: []string{`^Shim is gone`, `^Shim log`}, want: []string{"Recording a container exit: boom"}},
		{name: "expected by error and values", expected: []string{`: boom$`, `line=level=error`}},
		{name: "info lines never count", expected: []string{`Shim|Recording`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res []*regexp.Regexp
			for _, p := range tc.expected {
				res = append(res, regexp.MustCompile(p))
			}
			assert.Equal(t, tc.want, Unexpected(log, res))
		})
	}
}

func TestLogCollectsErrorsOfDerivedLoggers(t *testing.T) {
	l := New(t)
	l.Expect(`^Deleting an exec process: boom$`)
	l.Logger().WithName("shim").WithValues("id", "x").Error(errors.New("boom"), "Deleting an exec process")
	assert.Len(t, l.buffer.Data(), 1)
}

// recorder is a testing.TB whose Errorf records instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}

func TestLogFailsTheTestOnAnUnexpectedError(t *testing.T) {
	r := &recorder{TB: t}
	l := New(r)
	l.Expect(`^expected`)
	l.Logger().Error(errors.New("boom"), "expected")
	l.check()
	assert.Empty(t, r.errs)
	l.Logger().Error(errors.New("boom"), "Recording a container exit")
	l.check()
	assert.Len(t, r.errs, 1)
}

func TestLogged(t *testing.T) {
	l := New(t)
	assert.False(t, l.Logged("step done"))
	l.Logger().V(2).Info("step done", "n", 1)
	assert.True(t, l.Logged("step done"))
	assert.False(t, l.Logged("step"), "the whole message, not a prefix")
}
