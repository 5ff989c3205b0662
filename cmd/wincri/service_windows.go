package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/wincri/wincri/pkg/version"
)

// defaultServiceName is the name wincri registers under with the service
// control manager unless --service-name says otherwise.
const defaultServiceName = "wincri"

// registerService registers this executable with args as the automatic
// service name, restarted by the service control manager when it fails
// (15 s, then 15 s, then 60 s; the count resets after a day), and as an
// event log source for its start, stop and failure messages.
func registerService(name string, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager: %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(name); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already registered; --unregister-service first", name)
	}
	s, err := m.CreateService(name, exe, mgr.Config{
		DisplayName:  serviceDisplayName(name),
		Description:  "Kubernetes CRI runtime for Windows nodes (" + version.Version() + ")",
		StartType:    mgr.StartAutomatic,
		ErrorControl: mgr.ErrorNormal,
	}, args...)
	if err != nil {
		return fmt.Errorf("registering service %s: %w", name, err)
	}
	defer s.Close()
	actions := []mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 15 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 15 * time.Second},
		{Type: mgr.ServiceRestart, Delay: time.Minute},
	}
	if err := s.SetRecoveryActions(actions, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("setting the restart-on-failure actions of service %s: %w", name, err)
	}
	// An event log source left by an earlier registration is fine
	// (eventlog reports it as "registry key already exists").
	if err := eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("registering the event log source %s: %w", name, err)
	}
	return nil
}

// unregisterService stops nothing: it removes the service name (the
// service control manager deletes it once it has stopped) and its event
// log source.
func unregisterService(name string) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("service %s is not registered: %w", name, err)
	}
	defer s.Close()
	if err := s.Delete(); err != nil {
		return fmt.Errorf("removing service %s: %w", name, err)
	}
	_ = eventlog.Remove(name)
	return nil
}

// withService runs serve under the service control manager when
// runService is set, as the registered command line has it, translating
// Stop and Shutdown into cancelling serve's context, and writing start,
// stop and failure to the event log. Otherwise it runs serve with ctx as
// it is. The flag, not svc.IsWindowsService's guess from the parent
// process, decides, as containerd's --run-service does
// (cmd/containerd/command/service_windows.go, launchService).
func withService(ctx context.Context, name string, runService bool, serve func(context.Context) error) error {
	if !runService {
		return serve(ctx)
	}
	h := &serviceHandler{serve: serve, parent: ctx}
	if elog, err := eventlog.Open(name); err == nil {
		defer elog.Close()
		h.elog = elog
	}
	if err := svc.Run(name, h); err != nil {
		if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
			return fmt.Errorf("--run-service: wincri was not started by the service control manager (start it with sc.exe start %s): %w", name, err)
		}
		return fmt.Errorf("running as service %s: %w", name, err)
	}
	return h.err
}

type serviceHandler struct {
	serve  func(context.Context) error
	parent context.Context
	err    error
	// elog receives start, stop and failure; nil when the source is not
	// registered.
	elog *eventlog.Log
}

func (h *serviceHandler) event(failed bool, msg string) {
	if h.elog == nil {
		return
	}
	if failed {
		_ = h.elog.Error(1, msg)
	} else {
		_ = h.elog.Info(1, msg)
	}
}

func (h *serviceHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	ctx, cancel := context.WithCancel(h.parent)
	defer cancel()
	done := make(chan error, 1)
	status <- svc.Status{State: svc.StartPending}
	go func() { done <- h.serve(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	h.event(false, "wincri "+version.Version()+" started")
	for {
		select {
		case err := <-done:
			h.err = err
			status <- svc.Status{State: svc.StopPending}
			if err != nil {
				h.event(true, "wincri failed: "+err.Error())
				return true, 1
			}
			h.event(false, "wincri stopped")
			return false, 0
		case req := <-requests:
			switch req.Cmd {
			case svc.Interrogate:
				status <- req.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
			}
		}
	}
}
