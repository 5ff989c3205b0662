// Package crilog writes and reads container logs in the CRI format that
// kubelet reads:
//
//	<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n
//
// A line longer than the configured bound is split into partial (P)
// records followed by a full (F) record; output that ends without a
// newline is a partial record, as in containerd, so that kubelet does not
// invent a newline the container never wrote. The line splitting follows
// containerd's internal/cri/io so that a log reads the same whichever
// runtime wrote it.
//
// File is a container's log file shared by its two streams; Copy turns a
// stream into records; ResolveLogPath checks the path kubelet asks for;
// ParseLine and ReadRecords read a log back. The process that owns the
// file for a running container is in the logger subpackage.
package crilog
