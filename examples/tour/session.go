package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

// A Session is a loop-bound HTTP client session, the seed's
// aiohttp.ClientSession: it owns a connection pool (an http.Client with a
// Transport of its own, closed by Exit) and counts its requests.
//
// Every use of a Session runs on the loop it was entered on, one step at a
// time, so its counters are plain ints with no lock: the race detector would
// report any use from elsewhere. The HTTP I/O itself never runs on the loop;
// it goes to [aio.ToThread], and only its outcome comes back to the loop, where
// the counters are updated.
type Session struct {
	name      string
	loop      *aio.Loop // the loop the session is bound to
	transport *http.Transport
	client    *http.Client
	log       *printer
	tally     *atomic.Int64 // requests of every session, for the tour's cross-check

	// Loop-owned: read and written only by tasks of s.loop.
	requests int         // requests made
	reused   int         // requests that reused a pooled connection
	threads  map[int]int // requests per OS thread the loop ran them on
	closed   bool
}

// A hop is what one request reports from the loop: where it was handled.
type hop struct {
	Status int
	Loop   uint64 // aio.Loop.ID of the loop that ran the task
	Name   string // the loop's name
	Thread int    // gettid() inside the task, on the loop
	N      int    // the session's request count after this request
}

func (h hop) String() string {
	return fmt.Sprintf("got %d in loop %d in %s (thread %d)", h.Status, h.Loop, h.Name, h.Thread)
}

// NewSession returns the resource that makes a session when entered (on the
// loop, like aiohttp.ClientSession's constructor) and closes its connection
// pool when exited.
func NewSession(name string, log *printer, tally *atomic.Int64) aio.Resource[*Session] {
	return &sessionResource{name: name, log: log, tally: tally}
}

type sessionResource struct {
	name  string
	log   *printer
	tally *atomic.Int64
	s     *Session
}

func (r *sessionResource) Enter(t *aio.Task) (*Session, error) {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	r.s = &Session{
		name:      r.name,
		loop:      t.Loop(),
		transport: tr,
		client:    &http.Client{Transport: tr, Timeout: 30 * time.Second},
		log:       r.log,
		tally:     r.tally,
		threads:   make(map[int]int),
	}
	r.log.Verbosef("   enter: session %q opened in loop %d (thread %d)", r.name, t.Loop().ID(), gettid())
	return r.s, nil
}

func (r *sessionResource) Exit(t *aio.Task, how error) error {
	s := r.s
	s.closed = true
	s.transport.CloseIdleConnections()
	line := fmt.Sprintf("   exit: session %q closed after %s (%s) in loop %d (thread %d)",
		s.name, plural(s.requests, "request"), plural(s.requests-s.reused, "new connection"), t.Loop().ID(), gettid())
	if how != nil {
		line += fmt.Sprintf("; the block ended with: %v", how)
	}
	if s.name == "per-run" {
		s.log.Verbosef("%s", line)
	} else {
		s.log.Printf("%s", line)
	}
	return nil
}

// check refuses a use from a task of another loop, as aiohttp refuses a
// session used from a loop other than its own.
func (s *Session) check(t *aio.Task) error {
	if err := s.bound(t); err != nil {
		return err
	}
	if s.closed {
		return fmt.Errorf("session %q is closed", s.name)
	}
	return nil
}

// bound refuses a task of another loop.
func (s *Session) bound(t *aio.Task) error {
	if t.Loop() != s.loop {
		return fmt.Errorf("session %q is bound to loop %d, used from loop %d", s.name, s.loop.ID(), t.Loop().ID())
	}
	return nil
}

// fetched is what a request brings back from the thread that made it.
type fetched struct {
	status int
	reused bool
	body   io.ReadCloser // nil once read
}

// do sends a GET for url with the session's client, off the loop; keepBody
// leaves the body open for the caller. It must run in a ToThread function.
func do(ctx context.Context, client *http.Client, url string, keepBody bool) (fetched, error) {
	var f fetched
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { f.reused = info.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return f, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return f, err
	}
	f.status = resp.StatusCode
	if keepBody {
		f.body = resp.Body
		return f, nil
	}
	// Read the body to its end so that the connection goes back to the pool.
	_, err = io.Copy(io.Discard, resp.Body)
	return f, errors.Join(err, resp.Body.Close())
}

// count records a request on the loop. No lock: only tasks of s.loop run it.
func (s *Session) count(t *aio.Task, f fetched) hop {
	tid := gettid()
	s.requests++
	if f.reused {
		s.reused++
	}
	s.threads[tid]++
	s.tally.Add(1)
	return hop{Status: f.status, Loop: t.Loop().ID(), Name: t.Loop().Name(), Thread: tid, N: s.requests}
}

// Get is the seed's do_stuff: it makes one GET request for url and reports,
// from the loop, where it was handled. The request runs off the loop, so other
// tasks go on meanwhile. Get must be called by a task of the session's loop.
func (s *Session) Get(t *aio.Task, url string) (hop, error) {
	if err := s.check(t); err != nil {
		return hop{}, err
	}
	client := s.client
	f, err := aio.ToThread(t, func(ctx context.Context) (fetched, error) {
		return do(ctx, client, url, false)
	})
	if err != nil {
		return hop{}, err
	}
	return s.count(t, f), nil
}

// Requests returns how many requests the session has made. It must be called
// by a task of the session's loop.
func (s *Session) Requests(t *aio.Task) (int, error) {
	if err := s.bound(t); err != nil {
		return 0, err
	}
	return s.requests, nil
}

// Threads returns the OS threads the session's requests were counted on. It
// must be called by a task of the session's loop.
func (s *Session) Threads(t *aio.Task) (map[int]int, error) {
	if err := s.bound(t); err != nil {
		return nil, err
	}
	threads := make(map[int]int, len(s.threads))
	for tid, n := range s.threads {
		threads[tid] = n
	}
	return threads, nil
}

// plural returns "1 request", "2 requests".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
