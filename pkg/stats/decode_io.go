package stats

import (
	"fmt"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
)

// ioFromV1 merges the byte and operation counts of the blkio
// controller, per device. Only the Read and Write operations are
// kept: Sync, Async, Discard and Total overlap them.
func ioFromV1(b *v1.BlkIOStat) []DeviceIO {
	var out []DeviceIO
	at := func(e *v1.BlkIOEntry) *DeviceIO {
		for i := range out {
			if out[i].Major == e.GetMajor() && out[i].Minor == e.GetMinor() {
				return &out[i]
			}
		}
		out = append(out, DeviceIO{Major: e.GetMajor(), Minor: e.GetMinor(), Device: deviceName(e.GetDevice(), e.GetMajor(), e.GetMinor())})
		return &out[len(out)-1]
	}
	for _, e := range b.GetIoServiceBytesRecursive() {
		switch e.GetOp() {
		case "Read":
			at(e).ReadBytes = e.GetValue()
		case "Write":
			at(e).WriteBytes = e.GetValue()
		}
	}
	for _, e := range b.GetIoServicedRecursive() {
		switch e.GetOp() {
		case "Read":
			at(e).Reads = e.GetValue()
		case "Write":
			at(e).Writes = e.GetValue()
		}
	}
	return out
}

func ioFromV2(io *v2.IOStat) []DeviceIO {
	var out []DeviceIO
	for _, e := range io.GetUsage() {
		out = append(out, DeviceIO{
			Major: e.GetMajor(), Minor: e.GetMinor(), Device: deviceName("", e.GetMajor(), e.GetMinor()),
			ReadBytes: e.GetRbytes(), WriteBytes: e.GetWbytes(), Reads: e.GetRios(), Writes: e.GetWios(),
		})
	}
	return out
}

// deviceName is the name a shim gave a device, else its numbers: the
// label must not be empty, and resolving names would read /sys on
// every request.
func deviceName(name string, major, minor uint64) string {
	if name != "" {
		return name
	}
	return fmt.Sprintf("%d:%d", major, minor)
}
