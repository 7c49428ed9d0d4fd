package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
)

// pageLines is how many lines the embedded server's page has: as many as the
// page the seed fetched ("got 624 lines").
const pageLines = 624

// A server is the tour's embedded HTTP server on 127.0.0.1, so that the tour
// needs no network. It serves one page of pageLines lines and counts the
// requests it has served.
type server struct {
	URL    string
	served atomic.Int64

	srv  *http.Server
	done chan error // Serve's result
}

// startServer starts the server on a free port of 127.0.0.1.
func startServer() (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{URL: "http://" + ln.Addr().String() + "/", done: make(chan error, 1)}
	page := makePage(pageLines)
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.served.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server, closes its connections and waits for Serve to
// return.
func (s *server) Close() error {
	err := s.srv.Close()
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// makePage returns an HTML page of n lines (n >= 4), each ending in a newline.
func makePage(n int) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<title>threadrunner tour</title>\n")
	for i := 3; i <= n-1; i++ {
		fmt.Fprintf(&b, "<p>line %d of %d: run async code from sync code, one thread, one step at a time</p>\n", i, n)
	}
	b.WriteString("</html>\n")
	return []byte(b.String())
}
