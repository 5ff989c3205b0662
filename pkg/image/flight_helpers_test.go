//go:build !windows

package image

// inFlight reports whether a call for key is running.
func (f *flight) inFlight(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.calls[key]
	return ok
}
