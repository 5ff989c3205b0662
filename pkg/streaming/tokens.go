package streaming

import (
	"container/list"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// The URL cache's bounds, as k8s.io/cri-streaming sets them: a URL is
// good for a minute, and at most 1000 wait for their session.
const (
	tokenTTL    = time.Minute
	maxInFlight = 1000
)

// tokens hands out the single-use tokens of the session URLs: each names
// the CRI request whose session its URL opens, until it is consumed or
// expires.
type tokens struct {
	mu sync.Mutex
	// byToken finds a pending request; expiry lists them oldest last.
	byToken map[string]*list.Element
	expiry  list.List
	now     func() time.Time
}

type pending struct {
	token   string
	req     any
	expires time.Time
}

func newTokens() *tokens {
	return &tokens{byToken: map[string]*list.Element{}, now: time.Now}
}

// insert records req and returns its token.
func (t *tokens) insert(req any) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for e := t.expiry.Back(); e != nil && now.After(e.Value.(*pending).expires); e = t.expiry.Back() {
		t.expiry.Remove(e)
		delete(t.byToken, e.Value.(*pending).token)
	}
	if t.expiry.Len() >= maxInFlight {
		return "", fmt.Errorf("%d streaming sessions wait to be opened: %w", maxInFlight, errdefs.ErrResourceExhausted)
	}
	// 6 random bytes: 8 URL-safe characters.
	raw := make([]byte, 6)
	for range 10 {
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		token := base64.RawURLEncoding.EncodeToString(raw)
		if _, taken := t.byToken[token]; taken {
			continue
		}
		t.byToken[token] = t.expiry.PushFront(&pending{token: token, req: req, expires: now.Add(tokenTTL)})
		return token, nil
	}
	return "", fmt.Errorf("no unique streaming token: %w", errdefs.ErrUnavailable)
}

// consume removes token and returns its request, unless it expired.
func (t *tokens) consume(token string) (any, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byToken[token]
	if !ok {
		return nil, false
	}
	t.expiry.Remove(e)
	delete(t.byToken, token)
	p := e.Value.(*pending)
	if t.now().After(p.expires) {
		return nil, false
	}
	return p.req, true
}
