//go:build !windows

package image

// callers is how many callers share the call for key; 0 when none runs.
func (f *flight) callers(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[key]; ok {
		return c.callers
	}
	return 0
}
