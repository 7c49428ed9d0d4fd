package js

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// A request is one fetch: the HTTP request, then its response's body. The
// prelude's fetch and Response drive it through the object fetch returns;
// the I/O runs in aio.ToThread, never on the loop.
type request struct {
	vm     *VM
	ctx    context.Context // the request's life: until its body is closed or the VM closes
	cancel context.CancelFunc

	// Loop-owned.
	resp   *http.Response
	closed bool
	eof    bool

	// Owned by the ToThread function reading the body (one at a time: the
	// prelude chains reads).
	chunks chunker
}

// fetch is the Go half of the global fetch: go.fetch(url, method, headers,
// body) sends the request and returns the object the prelude uses. It runs
// on the loop, inside an entry.
func (vm *VM) fetch(url, method string, headers []string, payload goja.Value) *goja.Object {
	req := &request{vm: vm}
	req.ctx, req.cancel = context.WithCancel(vm.ctx)
	var body io.Reader
	if !goja.IsNull(payload) && !goja.IsUndefined(payload) {
		body = strings.NewReader(payload.String())
	}
	hreq, err := http.NewRequestWithContext(req.ctx, method, url, body)
	if err != nil {
		req.cancel()
		panic(vm.rt.NewTypeError("fetch: %v", err))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		hreq.Header.Add(headers[i], headers[i+1])
	}
	vm.bodies.add(req)
	obj := vm.rt.NewObject()
	obj.Set("response", vm.goAsync(func(t *aio.Task) (any, error) { return req.send(t, hreq) }))
	obj.Set("read", func() goja.Value { return vm.goAsync(req.read) })
	obj.Set("text", func() goja.Value { return vm.goAsync(req.readAll) })
	obj.Set("abort", req.close)
	obj.Set("close", req.close)
	return obj
}

// send sends the request and returns the response's status and headers as
// the prelude's Response constructor takes them.
func (req *request) send(t *aio.Task, hreq *http.Request) (any, error) {
	vm := req.vm
	resp, err := aio.ToThread(t, func(ctx context.Context) (*http.Response, error) {
		stop := context.AfterFunc(ctx, req.cancel) // the calling JavaScript gave up
		defer stop()
		return vm.client.Do(hreq)
	})
	if err != nil {
		req.close()
		return nil, err
	}
	req.resp = resp
	req.chunks.r = resp.Body
	if req.closed {
		// Aborted while the response was on its way.
		resp.Body.Close()
		return nil, context.Canceled
	}
	var headers []any
	for name, vs := range resp.Header {
		for _, v := range vs {
			headers = append(headers, strings.ToLower(name), v)
		}
	}
	raw := vm.rt.NewObject()
	raw.Set("status", resp.StatusCode)
	raw.Set("statusText", http.StatusText(resp.StatusCode))
	raw.Set("url", resp.Request.URL.String())
	raw.Set("headers", vm.rt.NewArray(headers...))
	return raw, nil
}

// read returns the body's next chunk, or null at its end.
func (req *request) read(t *aio.Task) (any, error) {
	if req.eof {
		return goja.Null(), nil
	}
	if req.closed {
		return nil, errBodyClosed
	}
	type chunk struct {
		s   string
		eof bool
	}
	c, err := aio.ToThread(t, func(ctx context.Context) (chunk, error) {
		stop := context.AfterFunc(ctx, req.cancel)
		defer stop()
		s, eof, err := req.chunks.next()
		return chunk{s, eof}, err
	})
	if err != nil {
		req.close()
		return nil, err
	}
	if c.eof {
		req.eof = true
		req.close()
		if c.s == "" {
			return goja.Null(), nil
		}
	}
	return c.s, nil
}

// readAll returns the rest of the body.
func (req *request) readAll(t *aio.Task) (any, error) {
	if req.closed {
		return nil, errBodyClosed
	}
	s, err := aio.ToThread(t, func(ctx context.Context) (string, error) {
		stop := context.AfterFunc(ctx, req.cancel)
		defer stop()
		return req.chunks.rest()
	})
	req.eof = true
	req.close()
	return s, err
}

var errBodyClosed = fmt.Errorf("js: fetch: response body closed")

// close ends the request: an exchange on its way is aborted and the body is
// closed. It runs on the loop; closing again does nothing.
func (req *request) close() {
	if req.closed {
		return
	}
	req.closed = true
	req.cancel() // first, so that a read in progress returns at once
	if req.resp != nil {
		req.resp.Body.Close()
	}
	req.vm.bodies.remove(req)
}

// A chunker reads a body in chunks of text that never end inside a UTF-8
// sequence.
type chunker struct {
	r     io.Reader
	buf   []byte
	carry int // bytes at the start of buf kept from the last read
}

const chunkSize = 32 << 10

// next returns the next chunk, and whether the body has ended.
func (c *chunker) next() (string, bool, error) {
	if c.buf == nil {
		c.buf = make([]byte, chunkSize)
	}
	for {
		n, err := c.r.Read(c.buf[c.carry:])
		n += c.carry
		c.carry = 0
		if err == io.EOF {
			return string(c.buf[:n]), true, nil
		}
		if err != nil {
			return "", false, err
		}
		cut := completeUTF8(c.buf[:n])
		s := string(c.buf[:cut])
		c.carry = copy(c.buf, c.buf[cut:n])
		if cut > 0 {
			return s, false, nil
		}
	}
}

// rest returns what is left of the body.
func (c *chunker) rest() (string, error) {
	b, err := io.ReadAll(c.r)
	if c.carry > 0 {
		b = append(c.buf[:c.carry:c.carry], b...)
		c.carry = 0
	}
	return string(b), err
}

// completeUTF8 returns the length of the longest prefix of b that does not
// end inside a UTF-8 sequence (invalid bytes count as whole).
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// bodies are the VM's requests not yet closed, so that closing the VM can
// close them. Loop-owned.
type bodies struct {
	m map[*request]struct{}
}

func (bs *bodies) add(req *request) {
	if bs.m == nil {
		bs.m = make(map[*request]struct{})
	}
	bs.m[req] = struct{}{}
}

func (bs *bodies) remove(req *request) { delete(bs.m, req) }

func (bs *bodies) closeAll() {
	for req := range bs.m {
		req.close()
	}
}
