// Package wine holds the Wine suite: tests, run on Linux, that start
// wincri's real Windows binaries (from the release zip) under Wine and
// drive them with the Windows crictl.exe, Wine's service manager and the
// real containerd-shim-runhcs-v1.exe. Wine has no HCS, HCN or BackupWrite,
// so what runs is everything before them: start-up, configuration, OS
// build and SKU detection, the named pipe, image resolution and platform
// matching, the service, the shim handshake, and the errors a user gets
// where Windows would go on.
//
// The Windows programs the suite needs besides the release (winprobe,
// the bcryptprimitives.dll that Go 1.26 binaries need on Wine 8) are in
// winprobe/ and prng/.
package wine
