package sandbox

import (
	"fmt"
	"unsafe"

	"github.com/Microsoft/hcsshim"
	"github.com/containerd/errdefs"
	"golang.org/x/sys/windows"
)

// uvmWorkerPid is the host PID of the worker process (vmwp.exe) of the
// utility VM uvmID: the HCS gives the VM's runtime id, which names the
// virtual account its worker runs as.
func uvmWorkerPid(uvmID string) (uint32, error) {
	props, err := hcsshim.GetContainers(hcsshim.ComputeSystemQuery{IDs: []string{uvmID}})
	if err != nil {
		return 0, fmt.Errorf("querying utility VM %s: %w", uvmID, err)
	}
	if len(props) == 0 {
		return 0, fmt.Errorf("utility VM %s: %w", uvmID, errdefs.ErrNotFound)
	}
	procs, err := workerCandidates()
	if err != nil {
		return 0, err
	}
	pid, ok := findUVMWorker(procs, props[0].RuntimeID.String())
	if !ok {
		return 0, fmt.Errorf("the worker process of utility VM %s: %w", uvmID, errdefs.ErrNotFound)
	}
	return pid, nil
}

// workerCandidates lists the host's vmwp.exe processes with the account
// each runs as.
func workerCandidates() ([]hostProcess, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	defer windows.CloseHandle(snap)
	var out []hostProcess
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		exe := windows.UTF16ToString(e.ExeFile[:])
		if exe != "vmwp.exe" {
			continue
		}
		p := hostProcess{pid: e.ProcessID, exe: exe}
		p.account, p.domain = processAccount(e.ProcessID)
		out = append(out, p)
	}
	return out, nil
}

// processAccount is the account and domain process pid runs as; empty
// when they cannot be read.
func processAccount(pid uint32) (account, domain string) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return "", ""
	}
	defer windows.CloseHandle(h)
	var token windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &token); err != nil {
		return "", ""
	}
	defer token.Close()
	user, err := token.GetTokenUser()
	if err != nil {
		return "", ""
	}
	account, domain, _, err = user.User.Sid.LookupAccount("")
	if err != nil {
		return "", ""
	}
	return account, domain
}
