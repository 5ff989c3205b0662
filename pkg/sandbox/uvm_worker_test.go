package sandbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFindUVMWorker(t *testing.T) {
	const vm = "5e0e2f3a-1b2c-4d5e-8f90-0123456789ab"
	procs := []hostProcess{
		{pid: 4, exe: "System", domain: "NT AUTHORITY", account: "SYSTEM"},
		{pid: 100, exe: "vmwp.exe", domain: "NT VIRTUAL MACHINE", account: "11111111-2222-3333-4444-555555555555"},
		{pid: 200, exe: "VMWP.EXE", domain: "NT VIRTUAL MACHINE", account: "5E0E2F3A-1B2C-4D5E-8F90-0123456789AB"},
		{pid: 300, exe: "notvmwp.exe", domain: "NT VIRTUAL MACHINE", account: vm},
	}
	tests := []struct {
		name   string
		vmID   string
		want   uint32
		wantOK bool
	}{
		{name: "case and braces differ", vmID: "{" + vm + "}", want: 200, wantOK: true},
		{name: "other VM", vmID: "11111111-2222-3333-4444-555555555555", want: 100, wantOK: true},
		{name: "no such VM", vmID: "99999999-2222-3333-4444-555555555555"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := findUVMWorker(procs, tt.vmID)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
