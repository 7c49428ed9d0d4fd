package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/threadrunner/threadrunner/aio"
)

// A Response is an HTTP response whose body is still open: the seed's
// "async with session.get(url) as response". Enter sends the request and
// Exit closes the body, both on the loop; [Response.Lines] streams the body's
// lines as an async generator.
type Response struct {
	Status int

	body   io.ReadCloser
	br     *bufio.Reader // used by one ToThread function at a time
	cancel context.CancelFunc
}

// Open returns the resource that sends a GET for url when entered and closes
// the response's body when exited. Entering it must happen on the session's
// loop.
func (s *Session) Open(url string) aio.Resource[*Response] {
	return &responseResource{s: s, url: url}
}

type responseResource struct {
	s    *Session
	url  string
	resp *Response
}

func (r *responseResource) Enter(t *aio.Task) (*Response, error) {
	s := r.s
	if err := s.check(t); err != nil {
		return nil, err
	}
	// Enter's context lives until Exit has returned, however long the block
	// reads the body; cancel lets a cancelled read abort the request.
	ctx, cancel := context.WithCancel(t.Context())
	client, url := s.client, r.url
	f, err := aio.ToThread(t, func(context.Context) (fetched, error) {
		return do(ctx, client, url, true)
	})
	if err != nil {
		cancel()
		return nil, err
	}
	s.count(t, f)
	r.resp = &Response{Status: f.status, body: f.body, br: bufio.NewReader(f.body), cancel: cancel}
	return r.resp, nil
}

// Exit closes the body. Closing does not wait for the network, so it may run
// on the loop; it runs even if the block was cancelled.
func (r *responseResource) Exit(t *aio.Task, how error) error {
	r.resp.cancel()
	return r.resp.body.Close()
}

// Lines returns the body's lines, each with its newline, as an async
// generator for the loop. Reading runs off the loop, one trip per network
// read rather than per line: each trip waits for one line and takes every
// further line already buffered. If the generator's task is cancelled, the
// read in flight is aborted.
func (r *Response) Lines() aio.Seq[string] {
	return func(t *aio.Task, yield func(string) bool) error {
		for {
			lines, err := aio.ToThread(t, r.readLines)
			for _, line := range lines {
				if !yield(line) {
					return nil
				}
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

// readLines reads one line, waiting for it if need be, then every further
// complete line already buffered, without waiting again. It runs off the loop.
func (r *Response) readLines(ctx context.Context) ([]string, error) {
	stop := context.AfterFunc(ctx, r.cancel)
	defer stop()
	var lines []string
	for {
		line, err := r.br.ReadString('\n')
		if line != "" {
			lines = append(lines, line)
		}
		if err != nil {
			return lines, err
		}
		if !r.lineBuffered() {
			return lines, nil
		}
	}
}

// lineBuffered reports whether a whole line is already buffered.
func (r *Response) lineBuffered() bool {
	buf, _ := r.br.Peek(r.br.Buffered())
	return bytes.IndexByte(buf, '\n') >= 0
}
