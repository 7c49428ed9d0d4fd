package js_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
	"github.com/threadrunner/threadrunner/js"
)

// bigLine is a line of the /big page: characters of one, two and three
// bytes, so that chunks of the body fall inside characters.
const bigLine = "héllo wörld ✓ ünïcödé\n"

// server is an httptest server with the pages the fetch tests use. arrived
// is told when a /hang request reaches its handler, and hung whenever a
// /hang or /stream request's context ends: the client went away.
type server struct {
	*httptest.Server
	arrived chan string
	hung    chan string
}

func newServer(t *testing.T) *server {
	s := &server{arrived: make(chan string, 16), hung: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Reply", "yes")
		w.Header().Add("X-Many", "1")
		w.Header().Add("X-Many", "2")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("X-Test"), body)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"a": 1, "list": [1, 2]}`)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		page := []byte(strings.Repeat(bigLine, 4000))
		for len(page) > 0 {
			n := min(len(page), 7777) // an odd size: cuts fall inside characters
			w.Write(page[:n])
			w.(http.Flusher).Flush()
			page = page[n:]
		}
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		s.arrived <- "hang"
		<-r.Context().Done()
		s.hung <- "hang"
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "first line")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		s.hung <- "stream"
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestFetch(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t, js.Script("lib.js", `
		async function post(url) {
			const r = await fetch(url, { method: 'post', headers: { 'X-Test': 'hdr' }, body: 'payload' });
			return [String(r.status), String(r.ok), r.headers.get('x-reply'), r.headers.get('X-Many'), r.url, await r.text()];
		}
		async function getJSON(url) { const r = await fetch(url); return (await r.json()).list[1] + (await Promise.resolve(r.headers.get('content-type'))); }
		async function twice(url) { const r = await fetch(url); await r.text(); try { await r.text(); } catch (e) { return e.name + ' ' + r.bodyUsed; } }
	`))
	got, err := js.Call[[]string](e.ctx, e.vm.Global("post"), srv.URL+"/echo")
	want := []string{"201", "true", "yes", "1, 2", srv.URL + "/echo", "POST hdr payload"}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("post = %q, %v; want %q", got, err, want)
	}
	if v, err := js.Call[string](e.ctx, e.vm.Global("getJSON"), srv.URL+"/json"); v != "2application/json" || err != nil {
		t.Errorf("getJSON = %q, %v; want 2application/json", v, err)
	}
	if v, err := js.Call[string](e.ctx, e.vm.Global("twice"), srv.URL+"/echo"); v != "TypeError true" || err != nil {
		t.Errorf("reading a body twice = %q, %v; want a TypeError", v, err)
	}
}

func TestFetchBodyChunks(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t, js.Script("lib.js", `
		async function chunks(url) {
			const r = await fetch(url);
			const it = r.body[Symbol.asyncIterator]();
			let text = '', n = 0;
			for (;;) {
				const { done, value } = await it.next();
				if (done) break;
				text += value;
				n++;
			}
			return [text, n];
		}
	`))
	got, err := js.Call[[]any](e.ctx, e.vm.Global("chunks"), srv.URL+"/big")
	if err != nil {
		t.Fatal(err)
	}
	if text := got[0].(string); text != strings.Repeat(bigLine, 4000) {
		t.Errorf("the chunks joined differ from the page (%d bytes; want %d): a character split?", len(text), 4000*len(bigLine))
	}
	if n := got[1].(int64); n < 2 {
		t.Errorf("chunks = %d; want several", n)
	}
	// And through Iter, from Go: the body is an async iterable.
	var b strings.Builder
	resp, err := js.Call[js.Handle](e.ctx, e.vm.Global("fetch"), srv.URL+"/big")
	if err != nil {
		t.Fatal(err)
	}
	for chunk, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[string](resp.Get("body"))) {
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(chunk)
	}
	if b.String() != strings.Repeat(bigLine, 4000) {
		t.Errorf("the body through Iter differs from the page")
	}
}

func TestFetchAbort(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t, js.Script("lib.js", `
		let controller;
		async function hang(url) {
			controller = new AbortController();
			try {
				await fetch(url, { signal: controller.signal });
			} catch (e) {
				return e.name + ' ' + controller.signal.aborted;
			}
		}
		function abort() { controller.abort(); }
		async function already(url) {
			try { await fetch(url, { signal: AbortSignal.abort() }); } catch (e) { return e.name; }
		}
	`))
	done := make(chan string, 1)
	go func() {
		v, err := js.Call[string](e.ctx, e.vm.Global("hang"), srv.URL+"/hang")
		done <- fmt.Sprintf("%s %v", v, err)
	}()
	testkit.Await(t, srv.arrived, "the request at the server")
	if _, err := js.Call[struct{}](e.ctx, e.vm.Global("abort")); err != nil {
		t.Fatal(err)
	}
	if got := testkit.Await(t, done, "the aborted fetch"); got != "AbortError true <nil>" {
		t.Errorf("hang = %q; want an AbortError", got)
	}
	if got := testkit.Await(t, srv.hung, "the server to see the request end"); got != "hang" {
		t.Errorf("server saw %q end; want hang (the request aborted)", got)
	}
	if v, err := js.Call[string](e.ctx, e.vm.Global("already"), srv.URL+"/echo"); v != "AbortError" || err != nil {
		t.Errorf("fetch with an aborted signal = %q, %v; want AbortError", v, err)
	}
}

func TestFetchBadRequests(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t)
	_, err := js.Eval[int](e.ctx, e.vm, "x.js", `fetch('::not a url')`)
	var je *js.Error
	if !errors.As(err, &je) || je.Name != "TypeError" {
		t.Errorf("fetch of a bad URL = %v; want a TypeError", err)
	}
	url := srv.URL
	srv.Close() // nothing listens there now
	if _, err := js.Call[int](e.ctx, e.vm.Global("fetch"), url); err == nil || !strings.Contains(err.Error(), "GoError") {
		t.Errorf("fetch of a closed server = %v; want the Go error", err)
	}
}

// A response is an async-disposable resource: its Exit closes the body, and
// the server sees the client go.
func TestFetchResponseResource(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t)
	var first string
	err := threadrunner.With(e.ctx, e.r, js.Resource(e.vm.Global("fetch"), srv.URL+"/stream"), func(resp js.Handle) error {
		for chunk, err := range threadrunner.Iter(e.ctx, e.r, js.Iter[string](resp.Get("body"))) {
			if err != nil {
				return err
			}
			first = chunk
			break
		}
		return nil
	})
	if err != nil || first != "first line\n" {
		t.Fatalf("With(fetch) = %q, %v; want the first line", first, err)
	}
	if got := testkit.Await(t, srv.hung, "the server to see the client go"); got != "stream" {
		t.Errorf("server saw %q end; want stream", got)
	}
	_ = aio.ErrClosed
}
