package threadrunner_test

// The seed's walkthrough ("Running async code from sync in Python asyncio"),
// step by step, against a local HTTP server: a loop-bound session whose
// requests run on the loop, used from sync code.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// seedLines is how many lines the seed's page has.
const seedLines = 624

// newSeedServer starts a server on 127.0.0.1 that serves seedLines lines at
// "/" and closes when the test ends. Call leaktest.Check first.
func newSeedServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for i := range seedLines {
			fmt.Fprintf(w, "line %d\n", i)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A session is the seed's aiohttp.ClientSession: a loop-bound object. It is
// made and used on one loop only, so it needs no lock; its requests run in
// aio.ToThread, off the loop, and their results come back to it.
type session struct {
	base      string
	transport *http.Transport
	loop      *aio.Loop // the loop it was entered on

	requests int  // loop-owned
	closed   bool // loop-owned
}

// newSession returns a session that is not entered yet (the seed's
// aiohttp.ClientSession()).
func newSession(base string) *session {
	return &session{base: base, transport: &http.Transport{}}
}

// Enter binds the session to t's loop.
func (s *session) Enter(t *aio.Task) (*session, error) {
	s.loop = t.Loop()
	return s, nil
}

// Exit closes the session's connections.
func (s *session) Exit(t *aio.Task, how error) error {
	if err := s.check(t); err != nil {
		return err
	}
	s.closed = true
	s.transport.CloseIdleConnections()
	return nil
}

// check refuses use from another loop or after Exit.
func (s *session) check(t *aio.Task) error {
	switch {
	case s.loop != t.Loop():
		return fmt.Errorf("session bound to %v used on %v", s.loop, t.Loop())
	case s.closed:
		return errors.New("session closed")
	}
	return nil
}

// get sends a GET for path from t and returns the response; its body must be
// closed. If outlive, the response may be read after t ends: its request is
// not bound to t's context, which ends with t.
func (s *session) get(t *aio.Task, path string, outlive bool) (*http.Response, error) {
	if err := s.check(t); err != nil {
		return nil, err
	}
	s.requests++
	return aio.ToThread(t, func(ctx context.Context) (*http.Response, error) {
		if outlive {
			ctx = context.WithoutCancel(ctx)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
		if err != nil {
			return nil, err
		}
		return s.transport.RoundTrip(req)
	})
}

// Get fetches path and returns the response's status (the seed's do_stuff).
func (s *session) Get(t *aio.Task, path string) (int, error) {
	resp, err := s.get(t, path, false)
	if err != nil {
		return 0, err
	}
	_, err = aio.ToThread(t, func(context.Context) (struct{}, error) {
		defer resp.Body.Close()
		_, err := io.Copy(io.Discard, resp.Body)
		return struct{}{}, err
	})
	return resp.StatusCode, err
}

// Open returns the response to a GET for path as a resource (the seed's
// `async with session.get(url) as response`).
func (s *session) Open(path string) aio.Resource[*response] {
	return aio.ResourceFunc(func(t *aio.Task) (*response, error) {
		resp, err := s.get(t, path, true)
		if err != nil {
			return nil, err
		}
		return &response{status: resp.StatusCode, body: resp.Body}, nil
	}, func(t *aio.Task, r *response, how error) error {
		_, err := aio.ToThread(t, func(context.Context) (struct{}, error) {
			return struct{}{}, r.body.Close()
		})
		return err
	})
}

// A response is an open HTTP response whose body is read on the loop.
type response struct {
	status int
	body   io.ReadCloser
}

// Lines returns the body's lines as an async generator (the seed's
// response.content): each read happens in aio.ToThread, and the lines it
// completes are yielded on the loop.
func (r *response) Lines() aio.Seq[string] {
	return func(t *aio.Task, yield func(string) bool) error {
		var pending []byte
		for {
			chunk, err := aio.ToThread(t, func(context.Context) ([]byte, error) {
				buf := make([]byte, 4096)
				n, err := r.body.Read(buf)
				return buf[:n], err
			})
			pending = append(pending, chunk...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				if !yield(string(pending[:i])) {
					return nil
				}
				pending = pending[i+1:]
			}
			if err == io.EOF {
				if len(pending) > 0 && !yield(string(pending)) {
					return nil
				}
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

// runInGoroutines calls fn from n goroutines at once and waits for them (the
// seed's do_stuff_in_threads).
func runInGoroutines(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// "But I want a long-lived event loop": running twice on one runner uses the
// same loop, on the same thread.
func TestSeedRunTwiceOnOneLoop(t *testing.T) {
	leaktest.Check(t)
	base := newSeedServer(t)
	r := newRunner(t)
	ctx := testContext(t)
	type result struct {
		status int
		loop   uint64
		tid    int
	}
	// main: `async with ClientSession() as session: await do_stuff(session)`
	main := func(t *aio.Task) (result, error) {
		var res result
		err := aio.With(t, newSession(base), func(s *session) error {
			status, err := s.Get(t, "/")
			res = result{status, t.Loop().ID(), threadID()}
			return err
		})
		return res, err
	}
	first, err := threadrunner.Run(ctx, r, main)
	if err != nil {
		t.Fatalf("Run(main) = %v; want nil", err)
	}
	second, err := threadrunner.Run(ctx, r, main)
	if err != nil {
		t.Fatalf("Run(main) again = %v; want nil", err)
	}
	if first.status != http.StatusOK || first != second {
		t.Errorf("Run(main) twice = %+v, %+v; want status 200 on one loop and thread both times", first, second)
	}
	if first.loop != r.Loop().ID() || first.tid != r.Loop().ThreadID() {
		t.Errorf("main ran on loop %d thread %d; want the runner's, %d thread %d", first.loop, first.tid, r.Loop().ID(), r.Loop().ThreadID())
	}
}

// "But I want a long-lived session" and "... from multiple threads": a
// session made and entered through Run, by hand, is used by many goroutines
// at once; its unlocked counter sees every request.
func TestSeedLongLivedSessionFromManyGoroutines(t *testing.T) {
	leaktest.Check(t)
	base := newSeedServer(t)
	r := newRunner(t)
	ctx := testContext(t)
	// session = runner.run(call_async(aiohttp.ClientSession))
	s, err := threadrunner.Run(ctx, r, func(*aio.Task) (*session, error) { return newSession(base), nil })
	if err != nil {
		t.Fatalf("Run(newSession) = %v; want nil", err)
	}
	// runner.run(session.__aenter__())
	if _, err := threadrunner.Run(ctx, r, s.Enter); err != nil {
		t.Fatalf("Run(s.Enter) = %v; want nil", err)
	}
	const goroutines, each = 8, 4
	runInGoroutines(goroutines, func(i int) {
		for range each {
			status, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return s.Get(t, "/") })
			if status != http.StatusOK || err != nil {
				t.Errorf("goroutine %d: Run(s.Get) = %d, %v; want 200, nil", i, status, err)
			}
		}
	})
	// runner.run(session.__aexit__(None, None, None))
	if _, err := threadrunner.Run(ctx, r, func(t *aio.Task) (struct{}, error) { return struct{}{}, s.Exit(t, nil) }); err != nil {
		t.Fatalf("Run(s.Exit) = %v; want nil", err)
	}
	if s.requests != goroutines*each || !s.closed {
		t.Errorf("session made %d requests, closed %v; want %d, true", s.requests, s.closed, goroutines*each)
	}
}

// "But I don't want to manage async context managers by hand": the session
// kept for the runner's life (enter_context) is exited by Close.
func TestSeedKeptSession(t *testing.T) {
	leaktest.Check(t)
	base := newSeedServer(t)
	r := threadrunner.New()
	ctx := testContext(t)
	s, err := threadrunner.Keep(ctx, r, newSession(base))
	if err != nil {
		t.Fatalf("Keep(session) = %v; want nil", err)
	}
	const goroutines = 2
	runInGoroutines(goroutines, func(i int) {
		status, err := threadrunner.Run(ctx, r, func(t *aio.Task) (int, error) { return s.Get(t, "/") })
		if status != http.StatusOK || err != nil {
			t.Errorf("goroutine %d: Run(s.Get) = %d, %v; want 200, nil", i, status, err)
		}
	})
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if s.requests != goroutines || !s.closed {
		t.Errorf("session made %d requests, closed %v; want %d, true", s.requests, s.closed, goroutines)
	}
}

// "But I want to use async iterables": a response opened as a block
// (wrap_context), its lines read from sync code (wrap_iter).
func TestSeedResponseLines(t *testing.T) {
	leaktest.Check(t)
	base := newSeedServer(t)
	r := newRunner(t)
	ctx := testContext(t)
	s, err := threadrunner.Keep(ctx, r, newSession(base))
	if err != nil {
		t.Fatalf("Keep(session) = %v; want nil", err)
	}
	// The same page, read in sync code, is what the lines must match.
	var want []string
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		want = append(want, sc.Text())
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if len(want) != seedLines {
		t.Fatalf("the page has %d lines; want %d", len(want), seedLines)
	}

	readLines := func(resp *response) ([]string, error) {
		var lines []string
		for line, err := range threadrunner.Iter(ctx, r, resp.Lines()) {
			if err != nil {
				return lines, err
			}
			lines = append(lines, line)
		}
		return lines, nil
	}
	check := func(how string, lines []string) {
		t.Helper()
		if len(lines) != seedLines {
			t.Fatalf("%s: got %d lines; want %d", how, len(lines), seedLines)
		}
		for i := range lines {
			if lines[i] != want[i] {
				t.Fatalf("%s: line %d = %q; want %q", how, i, lines[i], want[i])
			}
		}
	}

	// with runner.wrap_context(session.get(url)) as response:
	//     lines = [line for line in runner.wrap_iter(response.content)]
	var lines []string
	err = threadrunner.With(ctx, r, s.Open("/"), func(resp *response) error {
		if resp.status != http.StatusOK {
			return fmt.Errorf("status %d", resp.status)
		}
		var err error
		lines, err = readLines(resp)
		return err
	})
	if err != nil {
		t.Fatalf("With(s.Open) = %v; want nil", err)
	}
	check("With", lines)

	// The same with Open, for code that cannot wrap the use in a function.
	resp2, release, err := threadrunner.Open(ctx, r, s.Open("/"))
	if err != nil {
		t.Fatalf("Open(s.Open) = %v; want nil", err)
	}
	lines, readErr := readLines(resp2)
	if err := release(readErr); err != nil {
		t.Fatalf("release() = %v; want nil", err)
	}
	if readErr != nil {
		t.Fatalf("reading lines: %v", readErr)
	}
	check("Open", lines)
}
