package isolation

import (
	"runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// errnoEPERM is what a denied syscall returns, as with Docker's profile.
const errnoEPERM uint = 1

// deniedSyscalls is wincri's runtime/default profile: a deny list, not
// Docker's 400-entry allow list. Every syscall is allowed except these,
// each of which reaches kernel state that no namespace isolates (module
// loading, the clock, keyrings, swap, kexec) or a well-known escape route.
// A group is allowed again when the container holds the capability that
// legitimately grants it, so that adding, say, SYS_TIME still works. The
// trade-off is documented: a deny list does not shield a container from
// a bug in some rarely used syscall the way an allow list does.
var deniedSyscalls = []struct {
	exemptCap string // "" = denied whatever the capabilities
	names     []string
}{
	{"", []string{
		// Obsolete or never meant for containers.
		"create_module", "get_kernel_syms", "query_module", "nfsservctl",
		"uselib", "_sysctl", "sysfs", "ustat", "vm86", "vm86old",
		// Kernel keyrings are not namespaced.
		"add_key", "keyctl", "request_key",
	}},
	{"CAP_SYS_MODULE", []string{"init_module", "finit_module", "delete_module"}},
	{"CAP_SYS_BOOT", []string{"kexec_load", "kexec_file_load", "reboot"}},
	{"CAP_SYS_TIME", []string{"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex"}},
	{"CAP_SYS_PACCT", []string{"acct"}},
	{"CAP_SYS_RAWIO", []string{"iopl", "ioperm"}},
	{"CAP_DAC_READ_SEARCH", []string{"open_by_handle_at"}},
	{"CAP_SYS_PTRACE", []string{"userfaultfd"}},
	{"CAP_SYS_ADMIN", []string{
		"swapon", "swapoff", "bpf", "perf_event_open", "fanotify_init",
		"lookup_dcookie", "mount", "mount_setattr", "move_mount",
		"open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "umount",
		"umount2", "pivot_root", "unshare", "setns", "quotactl",
		"quotactl_fd", "name_to_handle_at",
	}},
}

// defaultSeccompProfile returns the runtime/default filter for a process
// holding caps.
func defaultSeccompProfile(caps []string) *specs.LinuxSeccomp {
	var names []string
	for _, g := range deniedSyscalls {
		if g.exemptCap != "" && slices.Contains(caps, g.exemptCap) {
			continue
		}
		names = append(names, g.names...)
	}
	errno := errnoEPERM
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: seccompArches(runtime.GOARCH),
		Syscalls:      []specs.LinuxSyscall{{Names: names, Action: specs.ActErrno, ErrnoRet: &errno}},
	}
}

// seccompArches lists the native architecture with the compatibility
// ones its kernel can run, so a deny rule cannot be dodged by switching
// to, say, the 32-bit syscall table.
func seccompArches(goarch string) []specs.Arch {
	switch goarch {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	}
	if a := seccompArch(goarch); a != "" {
		return []specs.Arch{a}
	}
	return nil
}
