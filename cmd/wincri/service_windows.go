package main

import (
	"context"

	"golang.org/x/sys/windows/svc"
)

// serviceName is the name wincri registers under with the service
// control manager.
const serviceName = "wincri"

// withService runs serve under the service control manager when the
// process was started as a Windows service, translating Stop and
// Shutdown into cancelling serve's context. Otherwise it runs serve with
// ctx as it is.
func withService(ctx context.Context, serve func(context.Context) error) error {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return serve(ctx)
	}
	h := &serviceHandler{serve: serve, parent: ctx}
	if err := svc.Run(serviceName, h); err != nil {
		return err
	}
	return h.err
}

type serviceHandler struct {
	serve  func(context.Context) error
	parent context.Context
	err    error
}

func (h *serviceHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	ctx, cancel := context.WithCancel(h.parent)
	defer cancel()
	done := make(chan error, 1)
	status <- svc.Status{State: svc.StartPending}
	go func() { done <- h.serve(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			h.err = err
			status <- svc.Status{State: svc.StopPending}
			if err != nil {
				return true, 1
			}
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
