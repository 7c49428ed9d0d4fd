// Package threadrunner runs an event loop on a dedicated OS thread and lets
// any goroutine use it synchronously: run a task and get its result, open a
// loop-bound resource for a block or for the runner's life, range over an
// async stream. It is the Go version of the ThreadRunner of "Running async
// code from sync in Python asyncio", done properly.
//
// The loop and its tasks are package aio's; this package is the doorway from
// the synchronous world. A [Runner] starts its loop on first use; every
// function here is safe to call from any number of goroutines at once.
//
// # The seed's examples in Go
//
// The seed starts with a coroutine run from sync code, and a generator
// consumed from it:
//
//	runner := threadrunner.New()
//	defer runner.Close()
//
//	doStuff := func(i int) func(*aio.Task) (int, error) {
//		return func(t *aio.Task) (int, error) { return i * 2, nil }
//	}
//	v, err := threadrunner.Run(ctx, runner, doStuff(4)) // 8
//
//	generateStuff := func(n int) aio.Seq[int] {
//		return func(t *aio.Task, yield func(int) bool) error {
//			for i := range n {
//				if !yield(i) {
//					break
//				}
//			}
//			return nil
//		}
//	}
//	for v, err := range threadrunner.Iter(ctx, runner, generateStuff(4)) {
//		fmt.Print(v, " ") // 0 1 2 3
//	}
//
// A loop-bound session (the seed's aiohttp.ClientSession) is an
// [aio.Resource]. Keep it for the runner's life (enter_context), and use it
// from several goroutines at once (run_coroutine_threadsafe); every use runs on
// the loop's thread, one step at a time, so the session needs no lock:
//
//	session, err := threadrunner.Keep(ctx, runner, NewSession())
//	var wg sync.WaitGroup
//	for range 2 {
//		wg.Go(func() {
//			status, err := threadrunner.Run(ctx, runner, func(t *aio.Task) (int, error) {
//				return session.Get(t, url)
//			})
//			...
//		})
//	}
//	wg.Wait()
//
// A response is a resource for one block (wrap_context), and its lines an
// async stream (wrap_iter):
//
//	err = threadrunner.With(ctx, runner, session.Open(url), func(resp *Response) error {
//		n := 0
//		for _, err := range threadrunner.Iter(ctx, runner, resp.Lines()) {
//			if err != nil {
//				return err
//			}
//			n++
//		}
//		fmt.Println("got", n, "lines")
//		return nil
//	})
//
// examples/tour runs the whole walkthrough against an embedded HTTP server.
//
// # Threading model
//
// The loop runs on one goroutine locked to its OS thread (unless created with
// [aio.Unpinned]), so every task step, every Enter and Exit and every
// generator step runs on that one thread. [Run] blocks the calling goroutine
// until its task ends, waiting first with a short spin and then in a futex the
// loop wakes directly, so that a round trip to the pinned loop costs one to
// two microseconds where a locked thread's channel hop costs 14 to 23 (see
// bench/README.md). Calling a blocking function of this package from inside a
// task would deadlock; it returns [aio.ErrLoopThread].
//
// # Cancellation
//
// Every call takes a context. Its values reach the task ([aio.Task.Context]);
// its end cancels the task, whose current or next await then returns the
// context's error, and the call returns once the task has ended, with an
// error that is (errors.Is) the context's.
//
// # Panics
//
// A task's panic never kills the loop. It is re-panicked in the goroutine that
// waits for the task, as a *aio.PanicError that holds the value and the
// task's stack. panic(nil) and runtime.Goexit are caught too, in every piece
// of user code the library calls; a Goexit goes on in the waiter.
//
// # Resources
//
// [With], [Open] and [Keep] run Enter and Exit on the loop and the body in the
// caller's goroutine. Exit runs exactly once whatever the body does, sees how
// it ended, and has its error joined to the body's; a body's panic goes on
// after Exit. What Enter made with its task's context stays usable until
// Exit has returned. Close exits what is still entered, last entered first,
// as do closes of the runner's loop made directly.
//
// # Iterators
//
// [Iter] runs an async generator on the loop and hands its values to the
// ranging goroutine in batches, one thread hop per batch, with back-pressure.
// Breaking out stops the generator without cancelling it: its cleanup runs,
// and may await, on the loop before the range loop ends. A context's end and
// Close cancel it.
//
// # Shutdown
//
// [Runner.Close] (io.Closer) refuses new calls with [aio.ErrClosed], exits
// kept resources in reverse order, cancels and awaits the remaining tasks,
// which stops open generators, waits for [aio.ToThread] functions, and stops
// the loop's goroutine. [Runner.Shutdown] does the same within a deadline.
package threadrunner
