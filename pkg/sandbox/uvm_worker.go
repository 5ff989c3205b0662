package sandbox

import "strings"

// hostProcess is what finding a utility VM's worker needs to know of a
// process on the host.
type hostProcess struct {
	pid uint32
	// exe is the executable's file name.
	exe string
	// domain and account name the user the process runs as.
	domain, account string
}

// findUVMWorker returns the host PID of the worker process of the utility
// VM whose HCS runtime id is vmID: the vmwp.exe that runs as the VM's
// own virtual account, NT VIRTUAL MACHINE\<vm id>. false when none does.
func findUVMWorker(procs []hostProcess, vmID string) (uint32, bool) {
	for _, p := range procs {
		if strings.EqualFold(p.exe, "vmwp.exe") &&
			strings.EqualFold(p.domain, "NT VIRTUAL MACHINE") &&
			strings.EqualFold(strings.Trim(p.account, "{}"), strings.Trim(vmID, "{}")) {
			return p.pid, true
		}
	}
	return 0, false
}
