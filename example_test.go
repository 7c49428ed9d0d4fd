package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// The seed's examples, in Go. A Client stands for the seed's
// aiohttp.ClientSession: a loop-bound object, entered and exited on the loop,
// that needs no lock because only the loop touches it. Its requests pretend
// to wait for a network with aio.Sleep.

// A Client is a loop-bound HTTP session (simulated).
type Client struct {
	requests int // loop-owned
}

// NewClient returns a client to enter with threadrunner.With or Keep.
func NewClient() *Client { return &Client{} }

// Enter opens the client on the loop.
func (c *Client) Enter(t *aio.Task) (*Client, error) {
	fmt.Println("client opened")
	return c, nil
}

// Exit closes the client on the loop.
func (c *Client) Exit(t *aio.Task, how error) error {
	fmt.Println("client closed after", c.requests, "requests")
	return nil
}

// Get sends a request and returns its status.
func (c *Client) Get(t *aio.Task, url string) (int, error) {
	c.requests++
	if err := aio.Sleep(t, time.Millisecond); err != nil {
		return 0, err
	}
	return 200, nil
}

// Open sends a request and returns the response as a resource, to read
// within a block.
func (c *Client) Open(url string) aio.Resource[*Page] {
	return aio.ResourceFunc(func(t *aio.Task) (*Page, error) {
		status, err := c.Get(t, url)
		return &Page{Status: status, lines: 624}, err
	}, func(t *aio.Task, p *Page, how error) error {
		fmt.Println("response closed")
		return nil
	})
}

// A Page is an open response.
type Page struct {
	Status int
	lines  int
}

// Lines returns the response's lines as an async generator.
func (p *Page) Lines() aio.Seq[string] {
	return func(t *aio.Task, yield func(string) bool) error {
		for i := range p.lines {
			if i%100 == 0 { // the next chunk comes from the network
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(fmt.Sprint("line ", i)) {
				return nil
			}
		}
		return nil
	}
}

// The seed's first example: run a coroutine from sync code.
func Example_doStuff() {
	runner := threadrunner.New()
	defer runner.Close()

	doStuff := func(i int) func(*aio.Task) (int, error) {
		return func(t *aio.Task) (int, error) { return i * 2, nil }
	}
	v, err := threadrunner.Run(context.Background(), runner, doStuff(4))
	fmt.Println(v, err)
	// Output: 8 <nil>
}

// The seed's second example: consume an async generator from sync code.
func Example_generateStuff() {
	runner := threadrunner.New()
	defer runner.Close()

	generateStuff := func(n int) aio.Seq[int] {
		return func(t *aio.Task, yield func(int) bool) error {
			for i := range n {
				if !yield(i) {
					break
				}
			}
			return nil
		}
	}
	for v, err := range threadrunner.Iter(context.Background(), runner, generateStuff(4)) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Print(v, " ")
	}
	fmt.Println()
	// Output: 0 1 2 3
}

// The seed's wrap_context: a session entered for a block, used from two
// goroutines at once (do_stuff_in_threads).
func Example_wrapContext() {
	ctx := context.Background()
	runner := threadrunner.New()
	defer runner.Close()

	err := threadrunner.With(ctx, runner, NewClient(), func(client *Client) error {
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				statuses[i], _ = threadrunner.Run(ctx, runner, func(t *aio.Task) (int, error) {
					return client.Get(t, "https://death.andgravity.com/")
				})
			})
		}
		wg.Wait()
		fmt.Println("got", statuses)
		return nil
	})
	fmt.Println(err)
	// Output:
	// client opened
	// got [200 200]
	// client closed after 2 requests
	// <nil>
}

// The seed's enter_context and wrap_iter: a session kept for the runner's
// life, and the lines of a response read in sync code.
func Example_enterContext() {
	ctx := context.Background()
	runner := threadrunner.New()

	client, err := threadrunner.Keep(ctx, runner, NewClient())
	if err != nil {
		fmt.Println(err)
		return
	}
	err = threadrunner.With(ctx, runner, client.Open("https://death.andgravity.com/"), func(resp *Page) error {
		var lines []string
		for line, err := range threadrunner.Iter(ctx, runner, resp.Lines()) {
			if err != nil {
				return err
			}
			lines = append(lines, line)
		}
		fmt.Println("got", len(lines), "lines")
		return nil
	})
	fmt.Println(err)
	fmt.Println(runner.Close()) // exits the client
	// Output:
	// client opened
	// got 624 lines
	// response closed
	// <nil>
	// client closed after 1 requests
	// <nil>
}

func ExampleNew() {
	// New starts nothing: the loop starts on first use.
	runner := threadrunner.New(aio.Name("gui"))
	defer runner.Close()
	name, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (string, error) {
		return t.Loop().Name(), nil
	})
	fmt.Println(name, err)
	// Output: gui <nil>
}

func ExampleRun() {
	runner := threadrunner.New()
	defer runner.Close()
	v, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
		// Tasks started here run on the same loop, concurrently.
		a := aio.Go(t, func(t *aio.Task) (int, error) { return 20, aio.Sleep(t, time.Millisecond) })
		b := aio.Go(t, func(t *aio.Task) (int, error) { return 22, aio.Sleep(t, time.Millisecond) })
		x, err := aio.Await(t, a)
		if err != nil {
			return 0, err
		}
		y, err := aio.Await(t, b)
		return x + y, err
	})
	fmt.Println(v, err)
	// Output: 42 <nil>
}

func ExampleRun_error() {
	runner := threadrunner.New()
	defer runner.Close()
	errNotFound := errors.New("not found")
	_, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
		return 0, fmt.Errorf("lookup: %w", errNotFound)
	})
	fmt.Println(err, errors.Is(err, errNotFound))
	// Output: lookup: not found true
}

func ExampleRun_timeout() {
	runner := threadrunner.New()
	defer runner.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := threadrunner.Run(ctx, runner, func(t *aio.Task) (int, error) {
		// The deadline cancels the task: its await returns.
		if err := aio.Sleep(t, time.Hour); err != nil {
			return 0, err
		}
		return 1, nil
	})
	fmt.Println(err, errors.Is(err, context.DeadlineExceeded))
	// Output: context deadline exceeded true
}

func ExampleRun_panic() {
	runner := threadrunner.New()
	defer runner.Close()
	func() {
		defer func() {
			pe := recover().(*aio.PanicError) // pe.Stack is the task's stack
			fmt.Println("recovered:", pe.Value)
		}()
		threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
			panic("boom")
		})
	}()
	// The loop serves on.
	v, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) { return 1, nil })
	fmt.Println(v, err)
	// Output:
	// recovered: boom
	// 1 <nil>
}

func ExampleSubmit() {
	runner := threadrunner.New()
	defer runner.Close()
	ctx := context.Background()
	// Submit returns at once; the tasks run while this goroutine goes on.
	var fs []*aio.Future[int]
	for i := range 3 {
		fs = append(fs, threadrunner.Submit(ctx, runner, func(t *aio.Task) (int, error) {
			return i * 10, aio.Sleep(t, time.Millisecond)
		}))
	}
	for _, f := range fs {
		fmt.Println(f.Wait(ctx))
	}
	// Output:
	// 0 <nil>
	// 10 <nil>
	// 20 <nil>
}

func ExampleSubmit_cancel() {
	runner := threadrunner.New()
	defer runner.Close()
	f := threadrunner.Submit(context.Background(), runner, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	f.Cancel()
	_, err := f.Wait(context.Background())
	fmt.Println(err)
	// Output: context canceled
}

func ExampleWith() {
	runner := threadrunner.New()
	defer runner.Close()
	// Enter and Exit run on the loop; the body runs here.
	err := threadrunner.With(context.Background(), runner, NewClient(), func(c *Client) error {
		status, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
			return c.Get(t, "/")
		})
		fmt.Println("status", status)
		return err
	})
	fmt.Println(err)
	// Output:
	// client opened
	// status 200
	// client closed after 1 requests
	// <nil>
}

func ExampleWith_error() {
	runner := threadrunner.New()
	defer runner.Close()
	conn := aio.ResourceFunc(func(t *aio.Task) (string, error) {
		return "conn", nil
	}, func(t *aio.Task, c string, how error) error {
		fmt.Println("exit sees:", how)
		return errors.New("close failed")
	})
	err := threadrunner.With(context.Background(), runner, conn, func(c string) error {
		return errors.New("query failed")
	})
	fmt.Println(err) // errors.Join of the body's error and Exit's
	// Output:
	// exit sees: query failed
	// query failed
	// close failed
}

func ExampleOpen() {
	runner := threadrunner.New()
	defer runner.Close()
	client, release, err := threadrunner.Open(context.Background(), runner, NewClient())
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
		return client.Get(t, "/")
	})
	fmt.Println(release(err)) // exits the client; later calls do nothing
	fmt.Println(release(nil))
	// Output:
	// client opened
	// client closed after 1 requests
	// <nil>
	// <nil>
}

func ExampleKeep() {
	runner := threadrunner.New()
	named := func(name string) aio.Resource[string] {
		return aio.ResourceFunc(func(t *aio.Task) (string, error) {
			fmt.Println("enter", name)
			return name, nil
		}, func(t *aio.Task, name string, how error) error {
			fmt.Println("exit", name)
			return nil
		})
	}
	for _, name := range []string{"db", "cache", "session"} {
		if _, err := threadrunner.Keep(context.Background(), runner, named(name)); err != nil {
			fmt.Println(err)
		}
	}
	// Close exits them, last entered first.
	fmt.Println(runner.Close())
	// Output:
	// enter db
	// enter cache
	// enter session
	// exit session
	// exit cache
	// exit db
	// <nil>
}

func ExampleIter() {
	runner := threadrunner.New()
	defer runner.Close()
	squares := func(t *aio.Task, yield func(int) bool) error {
		for i := 1; i <= 5; i++ {
			if err := aio.Sleep(t, 0); err != nil { // a generator may await
				return err
			}
			if !yield(i * i) {
				return nil
			}
		}
		return nil
	}
	for v, err := range threadrunner.Iter(context.Background(), runner, squares) {
		fmt.Println(v, err)
	}
	// Output:
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
	// 16 <nil>
	// 25 <nil>
}

func ExampleIter_break() {
	runner := threadrunner.New()
	defer runner.Close()
	naturals := func(t *aio.Task, yield func(int) bool) error {
		defer fmt.Println("generator cleaned up")
		for i := 0; ; i++ {
			if !yield(i) {
				return nil
			}
		}
	}
	for v := range threadrunner.Iter(context.Background(), runner, naturals) {
		if v == 3 {
			break // stops the generator; its cleanup runs before the loop ends
		}
		fmt.Println(v)
	}
	fmt.Println("done")
	// Output:
	// 0
	// 1
	// 2
	// generator cleaned up
	// done
}

func ExampleIter_error() {
	runner := threadrunner.New()
	defer runner.Close()
	failing := func(t *aio.Task, yield func(string) bool) error {
		yield("first")
		return errors.New("connection reset")
	}
	for v, err := range threadrunner.Iter(context.Background(), runner, failing) {
		fmt.Printf("%q %v\n", v, err)
	}
	// Output:
	// "first" <nil>
	// "" connection reset
}

func ExampleBatchSize() {
	runner := threadrunner.New()
	defer runner.Close()
	// Small items from a fast generator: bigger batches mean fewer hops
	// between threads.
	sum := 0
	for v, err := range threadrunner.Iter(context.Background(), runner, aio.SliceSeq(make([]int, 10_000)), threadrunner.BatchSize(1024)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		sum += v + 1
	}
	fmt.Println(sum)
	// Output: 10000
}

func ExampleBuffer() {
	runner := threadrunner.New()
	defer runner.Close()
	// At most 1 batch of 2 waits for the consumer: the generator cannot run
	// far ahead of it.
	n := 0
	for _, err := range threadrunner.Iter(context.Background(), runner, aio.SliceSeq(make([]int, 100)),
		threadrunner.BatchSize(2), threadrunner.Buffer(1)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
	}
	fmt.Println(n)
	// Output: 100
}

func ExampleRunner() {
	runner := threadrunner.New()
	defer runner.Close()
	// Any number of goroutines may use one runner at once; the tasks take
	// turns on its loop, so loop-owned state needs no lock.
	counter := 0
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) {
				counter++
				return counter, nil
			})
		})
	}
	wg.Wait()
	total, _ := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) { return counter, nil })
	fmt.Println(total)
	// Output: 10
}

func ExampleRunner_Close() {
	runner := threadrunner.New()
	f := threadrunner.Submit(context.Background(), runner, func(t *aio.Task) (int, error) {
		return 0, aio.Sleep(t, time.Hour)
	})
	fmt.Println(runner.Close()) // cancels the task and waits for it
	_, err := f.Wait(context.Background())
	fmt.Println(errors.Is(err, context.Canceled), errors.Is(err, aio.ErrClosed))
	_, err = threadrunner.Run(context.Background(), runner, func(t *aio.Task) (int, error) { return 1, nil })
	fmt.Println(err)
	fmt.Println(runner.Close()) // idempotent
	// Output:
	// <nil>
	// true true
	// aio: loop closed
	// <nil>
}

func ExampleRunner_Shutdown() {
	// A Shutdown that runs out of time logs what still runs; this example
	// has nowhere to show it.
	runner := threadrunner.New(aio.Logger(slog.New(slog.DiscardHandler)))
	var exitErr error // set on the loop, read after Close
	stubborn := aio.ResourceFunc(func(t *aio.Task) (int, error) { return 0, nil },
		func(t *aio.Task, _ int, how error) error {
			exitErr = aio.Sleep(t, time.Hour) // a slow cleanup
			return exitErr
		})
	threadrunner.Keep(context.Background(), runner, stubborn)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := runner.Shutdown(ctx)
	fmt.Println("deadline exceeded:", errors.Is(err, context.DeadlineExceeded))
	runner.Close() // waits for the loop to finish stopping
	fmt.Println("cleanup cut short:", exitErr)
	// Output:
	// deadline exceeded: true
	// cleanup cut short: context canceled
}

func ExampleRunner_Loop() {
	runner := threadrunner.New()
	defer runner.Close()
	l := runner.Loop() // starts the loop if needed
	inLoop, _ := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (bool, error) {
		return t.Loop() == l && l.InLoop(), nil
	})
	fmt.Println(l.Pinned(), inLoop)
	// Output: true true
}

func ExampleFromLoop() {
	// Serve a loop on a goroutine of your choosing (package mainthread
	// serves it on the main thread) and use it through a runner.
	l := aio.NewLoop(aio.Name("mine"))
	runner := threadrunner.FromLoop(l)
	go func() {
		name, err := threadrunner.Run(context.Background(), runner, func(t *aio.Task) (string, error) {
			return t.Loop().Name(), nil
		})
		fmt.Println(name, err)
		runner.Close() // makes Serve return
	}()
	fmt.Println(l.Serve())
	// Output:
	// mine <nil>
	// <nil>
}

func ExampleNewPool() {
	// Two loops, each with its own copy of a loop-bound value: here the
	// name of the loop the copy was made on.
	pool := threadrunner.NewPool(2, func() aio.Resource[string] {
		return aio.ResourceFunc(func(t *aio.Task) (string, error) { return t.Loop().Name(), nil }, nil)
	})
	defer pool.Close()
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		mismatches int
	)
	for range 10 {
		wg.Go(func() {
			threadrunner.Use(context.Background(), pool, func(r *threadrunner.Runner, madeOn string) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				if r.Loop().Name() != madeOn {
					mismatches++
				}
				return 0, nil
			})
		})
	}
	wg.Wait()
	fmt.Println("copies used with another loop:", mismatches)
	// Output: copies used with another loop: 0
}

func ExampleUse() {
	pool := threadrunner.NewPool[struct{}](2, nil) // plain runners
	defer pool.Close()
	name, err := threadrunner.Use(context.Background(), pool, func(r *threadrunner.Runner, _ struct{}) (string, error) {
		return threadrunner.Run(context.Background(), r, func(t *aio.Task) (string, error) {
			return t.Loop().Name(), nil
		})
	})
	fmt.Println(name == "pool-0" || name == "pool-1", err)
	// Output: true <nil>
}

func ExampleUseKey() {
	pool := threadrunner.NewPool[struct{}](4, nil)
	defer pool.Close()
	loopOf := func(user string) uint64 {
		id, _ := threadrunner.UseKey(context.Background(), pool, user, func(r *threadrunner.Runner, _ struct{}) (uint64, error) {
			return r.Loop().ID(), nil
		})
		return id
	}
	first, again := loopOf("ada"), loopOf("ada")
	fmt.Println(first == again) // same key, same loop
	// Output: true
}

func ExamplePool_Size() {
	pool := threadrunner.NewPool[struct{}](3, nil)
	defer pool.Close()
	fmt.Println(pool.Size())
	// Output: 3
}

func ExamplePool_Runner() {
	pool := threadrunner.NewPool[struct{}](2, nil, aio.Name("render"))
	defer pool.Close()
	fmt.Println(pool.Runner(1).Loop().Name())
	// Output: render
}

func ExamplePool_Close() {
	pool := threadrunner.NewPool(2, func() aio.Resource[string] {
		return aio.ResourceFunc(func(t *aio.Task) (string, error) { return "vm", nil },
			func(t *aio.Task, v string, how error) error {
				fmt.Println("exit", v) // each copy that was entered is exited once
				return nil
			})
	})
	threadrunner.UseKey(context.Background(), pool, 0, func(*threadrunner.Runner, string) (int, error) { return 0, nil })
	fmt.Println(pool.Close())
	_, err := threadrunner.Use(context.Background(), pool, func(*threadrunner.Runner, string) (int, error) { return 0, nil })
	fmt.Println(err)
	// Output:
	// exit vm
	// <nil>
	// aio: loop closed
}

func ExamplePool_Shutdown() {
	pool := threadrunner.NewPool[struct{}](2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(pool.Shutdown(ctx))
	// Output: <nil>
}
