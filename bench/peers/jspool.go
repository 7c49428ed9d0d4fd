package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/js"
)

// A Loader sends n HTTP requests to the system's server, from clients
// goroutines at once, and returns once all have been answered.
type Loader interface {
	Load(n, clients int) error
}

// renderScript renders the pages of a JSPool's server: a template's work,
// a few hundred microseconds of JavaScript per page, so that rendering, not
// HTTP, is what the loops share.
const renderScript = `
let count = 0;
async function tick() { return ++count; }
function render(path, rows) {
	const items = [];
	for (let i = 0; i < rows; i++) {
		items.push('<li>' + path + ' #' + i + ': ' + (i * 2654435761 % 1000003).toString(36) + '</li>');
	}
	return '<!doctype html><title>' + path + '</title><ul>' + items.join('') + '</ul>';
}
`

// renderRows is how many list items each page has.
const renderRows = 1500

// A JSPool is a threadrunner.Pool of loops, each with a VM running
// renderScript, behind an HTTP server on 127.0.0.1 whose handler renders
// each page on the least busy loop (threadrunner.Use and js.Call).
type JSPool struct {
	pool   *threadrunner.Pool[*js.VM]
	srv    *http.Server
	served chan error
	url    string
	client *http.Client
	ctx    context.Context
}

// NewJSPool starts a pool of loops and its server; each loop's VM is made
// now, so that no measured request pays for it.
func NewJSPool(loops int) (*JSPool, error) {
	s := &JSPool{
		pool: threadrunner.NewPool(loops, func() aio.Resource[*js.VM] {
			return js.New(js.Script("render.js", renderScript))
		}),
		served: make(chan error, 1),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		ctx:    context.Background(),
	}
	if err := s.warm(loops); err != nil {
		return nil, errors.Join(err, s.pool.Close())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, s.pool.Close())
	}
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.render)}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// warm makes every loop's VM: n calls at once, each held until all have
// started, go to n different loops (the least busy each time).
func (s *JSPool) warm(n int) error {
	var (
		started, all sync.WaitGroup
		mu           sync.Mutex
		errs         []error
	)
	started.Add(n)
	for range n {
		all.Go(func() {
			_, err := threadrunner.Use(s.ctx, s.pool, func(*threadrunner.Runner, *js.VM) (int, error) {
				started.Done()
				started.Wait()
				return 0, nil
			})
			if err != nil {
				started.Done() // never entered: do not hold the others
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	all.Wait()
	return errors.Join(errs...)
}

func (s *JSPool) render(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page, err := threadrunner.Use(ctx, s.pool, func(_ *threadrunner.Runner, vm *js.VM) (string, error) {
		return js.Call[string](ctx, vm.Global("render"), r.URL.Path, renderRows)
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	io.WriteString(w, page)
}

// Call implements [System]: tick, on the pool's first loop (by key, so that
// the count is one VM's).
func (s *JSPool) Call() (int, error) {
	return threadrunner.UseKey(s.ctx, s.pool, 0, func(_ *threadrunner.Runner, vm *js.VM) (int, error) {
		return js.Call[int](s.ctx, vm.Global("tick"))
	})
}

// Load implements [Loader].
func (s *JSPool) Load(n, clients int) error {
	return Parallel(clients, func(c int) error {
		for i := c; i < n; i += clients {
			if err := s.get(fmt.Sprintf("%s/page-%d", s.url, i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Parallel runs fn(0) to fn(k-1), each on a goroutine of its own, waits for
// them all and returns their errors joined: the load generators of the
// cases that call a system from many goroutines at once.
func Parallel(k int, fn func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range k {
		wg.Go(func() {
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *JSPool) get(url string) error {
	resp, err := s.client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(body), "</ul>") {
		return fmt.Errorf("peers: GET %s: %s", url, resp.Status)
	}
	return nil
}

// Close stops the server and closes the pool.
func (s *JSPool) Close() error {
	err := s.srv.Close()
	if serveErr := <-s.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	s.client.CloseIdleConnections()
	return errors.Join(err, s.pool.Close())
}
