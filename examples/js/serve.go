package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/js"
)

//go:embed render.js
var renderJS string

// renderRows is how many list items each page has: the template's work.
const renderRows = 200

// A renderer is an HTTP handler whose pages a JavaScript function renders,
// on whichever loop of the pool is least busy: one VM per loop, each
// single-threaded, the pool's loops in parallel.
type renderer struct {
	pool *threadrunner.Pool[*js.VM]
}

// newRenderer returns a renderer with a pool of n loops, each with a VM
// running render.js.
func (w *walk) newRenderer(n int) *renderer {
	return &renderer{pool: threadrunner.NewPool(n, func() aio.Resource[*js.VM] {
		return js.New(w.vmOptions(js.Script("render.js", renderJS))...)
	})}
}

func (rd *renderer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	page, err := threadrunner.Use(ctx, rd.pool, func(_ *threadrunner.Runner, vm *js.VM) (string, error) {
		return js.Call[string](ctx, vm.Global("render"), req.URL.Path, renderRows)
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, page)
}

// Close closes the pool's loops and their VMs.
func (rd *renderer) Close() error { return rd.pool.Close() }

// renderedBy finds which loop rendered a page.
var renderedBy = regexp.MustCompile(`rendered by (\S+) \(page`)

// serve is step 6: an HTTP server on 127.0.0.1 whose handlers render
// through the pool, and clients that fetch from it at once.
func (w *walk) serve(ctx context.Context) error {
	clients, calls, loops := w.cfg.Goroutines, w.cfg.Calls, w.cfg.Loops
	w.printf("6. An HTTP server whose handlers render through a pool of %d JavaScript runtimes, one per loop", loops)
	w.printf("   (threadrunner.NewPool(%d, js.New), threadrunner.Use in the handler)", loops)
	rd := w.newRenderer(loops)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return errors.Join(err, rd.Close())
	}
	srv := &http.Server{Handler: rd}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		by   = map[string]int{}
		errs []error
	)
	client := &http.Client{Transport: &http.Transport{}}
	for c := range clients {
		wg.Go(func() {
			for i := range calls {
				who, err := fetchPage(ctx, client, fmt.Sprintf("%s/client-%d/page-%d", url, c, i))
				mu.Lock()
				by[who]++
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	err = errors.Join(errors.Join(errs...), srv.Shutdown(ctx), rd.Close())
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return err
	}
	names := make([]string, 0, len(by))
	for name := range by {
		names = append(names, name)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s rendered %d", name, by[name]))
	}
	w.printf("   %d requests from %d clients: %s", clients*calls, clients, strings.Join(parts, ", "))
	w.printf("   -> every page rendered by a VM of the pool; one Close closed all %d loops\n", loops)
	if total := sumValues(by); total != clients*calls || len(by) > loops || (loops > 1 && clients*calls >= 2*loops && len(by) < 2) {
		return fmt.Errorf("step 6: pages by loop %v; want %d pages over up to %d loops, more than one used", by, clients*calls, loops)
	}
	return nil
}

// fetchPage gets url and returns the name of the loop that rendered it.
func fetchPage(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	m := renderedBy.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("GET %s: the page does not say who rendered it", url)
	}
	return string(m[1]), nil
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
