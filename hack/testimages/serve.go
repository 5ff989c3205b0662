package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"k8s.io/klog/v2"
)

// server is an in-memory OCI registry on a loopback address.
type server struct {
	addr string // host:port it listens on
	srv  *http.Server
	done chan error
	// blobBytes counts the blob bytes served, which the pull bench reads
	// at servedPath to tell how many bytes a pull fetched.
	blobBytes atomic.Int64
}

// servedPath answers the number of blob bytes served so far, as
// {"blob_bytes": N}.
const servedPath = "/wincri-bench/served"

// startRegistry listens on addr, which must be a loopback address: the
// registry is for this machine's runtime under test only. requestLog, when
// not nil, receives one line per request.
func startRegistry(ctx context.Context, addr string, requestLog io.Writer) (*server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("registry address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("registry address %q is not a loopback address", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	if requestLog == nil {
		requestLog = io.Discard
	}
	s := &server{addr: ln.Addr().String(), done: make(chan error, 1)}
	s.srv = &http.Server{
		Handler:           s.counting(registry.New(registry.Logger(log.New(requestLog, "registry: ", log.LstdFlags)))),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// stop shuts the registry down, letting running pulls finish for a while,
// then closes what is left: a client's spare connection that never sent a
// request would otherwise hold Shutdown for its idle grace period.
func (s *server) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stopping the registry: %w", err)
		}
		if err := s.srv.Close(); err != nil {
			return fmt.Errorf("closing the registry: %w", err)
		}
	}
	return <-s.done
}

// push uploads every image under each of its local names.
func (s *server) push(ctx context.Context, images []built) error {
	logger := klog.FromContext(ctx)
	for _, b := range images {
		for _, upstream := range b.spec.names {
			_, pathTag, err := localRef(upstream)
			if err != nil {
				return err
			}
			ref, err := name.NewTag(s.addr+"/"+pathTag, name.Insecure, name.StrictValidation)
			if err != nil {
				return fmt.Errorf("local name of %s: %w", upstream, err)
			}
			if b.idx != nil {
				err = remote.WriteIndex(ref, b.idx, remote.WithContext(ctx))
			} else {
				err = remote.Write(ref, b.img, remote.WithContext(ctx))
			}
			if err != nil {
				return fmt.Errorf("pushing %s as %s: %w", upstream, ref, err)
			}
			logger.V(2).Info("Pushed image", "image", upstream, "local", ref.String())
		}
	}
	return nil
}

// counting serves servedPath and counts the bytes of blob GETs.
func (s *server) counting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == servedPath {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, "{\"blob_bytes\": %d}\n", s.blobBytes.Load())
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			w = &countingWriter{ResponseWriter: w, n: &s.blobBytes}
		}
		next.ServeHTTP(w, r)
	})
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}
