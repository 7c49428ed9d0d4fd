// Package aio is an event loop pinned to one OS thread, with cooperative tasks
// that run on it: the Go counterpart of Python's asyncio that package
// threadrunner stands on.
//
// A task is a Go function that takes a *[Task]:
//
//	v, err := aio.Run(ctx, func(t *aio.Task) (int, error) {
//		f := aio.Go(t, func(t *aio.Task) (int, error) {
//			if err := aio.Sleep(t, 10*time.Millisecond); err != nil {
//				return 0, err
//			}
//			return 21, nil
//		})
//		n, err := aio.Await(t, f)
//		return 2 * n, err
//	})
//
// # Threading model
//
// A [Loop] runs on one goroutine, locked to its OS thread for the loop's whole
// life unless it is [Unpinned]. Each task runs as a runtime coroutine (made by
// iter.Pull) that the loop resumes; when a task awaits ([Await], [Sleep],
// [Recv], [ToThread], [Queue.Get], ...) it suspends, and the loop runs another.
// Suspended tasks resume on the same OS thread, so every step of every task of
// a pinned loop runs on one thread, as thread-affine C libraries, GUI toolkits
// and embedded interpreters require. Only one task step runs at a time: state
// that only tasks of one loop touch needs no lock.
//
// Blocking inside a task blocks the whole loop, as in asyncio. Send blocking
// work to [ToThread]; receive from channels with [Recv]; let other goroutines
// hand results in through [NewFuture]. [SlowTask] reports steps that hold the
// loop too long, with the stack where they are stuck.
//
// Other goroutines reach a loop through [Spawn] (start a task, get its
// [Future]) and [Call] (start a task and wait for it). Both are safe from any
// goroutine. A blocking call made on the loop's own thread ([Call],
// [Future.Wait], [Loop.Close]) would wait for the loop while blocking it: it
// returns [ErrLoopThread] instead.
//
// A task must not change its goroutine's OS-thread lock across an await
// (runtime.LockOSThread inside a task, then awaiting): the Go runtime treats
// that as a fatal error, not a panic. A pinned loop is already locked.
//
// # Cancellation
//
// Each task has a context, [Task.Context], which carries the values of the
// context it was started with. A task is cancelled when the context it was
// started with ends, when [Future.Cancel] is called, when its parent task is
// cancelled or ends (for tasks started with [Go]), and when its loop closes.
// Then its context is done and its current or next await returns the
// context's error: context.Canceled, or context.DeadlineExceeded for a
// deadline. Once cancelled, a task's error is always (errors.Is) that error,
// and also [ErrClosed] if the loop cancelled it by closing. [Timeout] bounds
// any await by a deadline.
//
// # Panics
//
// A task that panics never kills its loop. The panic becomes a *[PanicError]
// holding the value and the task's stack, which is re-panicked wherever the
// task's outcome is waited for: [Await], [Future.Wait], [Call], [Group.Wait].
// A panic(nil) counts, GODEBUG=panicnil=1 or not. A panic that nobody
// retrieves is logged, with its stack, when the loop closes and returned by
// [Loop.Close]; or, if its future was dropped first (fire and forget), when
// the future is garbage-collected. A task that calls runtime.Goexit (as
// t.FailNow does), directly or in a [ToThread] function, does not kill the
// loop either: whoever waits for it calls runtime.Goexit in turn.
//
// Why re-panic in the waiter rather than return an error: a panic is a bug,
// and turning it into an error that callers may drop hides it, which is
// what errgroup declined to do (golang/go#53757) and what conc's pools do
// not do either. Why a *PanicError rather than the value alone: the value
// crosses from the loop's thread, where the stack that explains it was; the
// waiter's own stack says nothing. Where nobody waits (a callback, an Exit
// at Close) the fault is logged or returned as an error, never dropped.
//
// User code on a loop runs in coroutines only, never on the loop's goroutine
// itself, so that even a runtime.Goexit ends only its coroutine: the loop
// and its thread serve on. A Logger whose handler panics is reported to
// standard error instead.
//
// # Callbacks
//
// [Loop.Post], [Loop.AfterFunc] and [Future.OnSettle] run functions on the
// loop without a task: cheaper when the work is short and never awaits,
// as a bridge to a foreign event loop or a JavaScript promise needs.
// Callbacks have no *Task, so they cannot await; they can start tasks with
// [Spawn]. Code that calls into foreign code from a task wraps the call in
// [NoAwait], so that an await in a callback from it panics clearly rather
// than corrupting the foreign code or, in a cgo callback, killing the
// process.
//
// # File descriptors
//
// [WaitReadable] and [WaitWritable] suspend a task until a file descriptor
// is ready, through Go's runtime poller, as asyncio's add_reader and
// add_writer let a callback run: a foreign event loop (Tcl's notifier, X11,
// GLib, D-Bus, libuv) is hosted by the loop when a task waits for each of
// its descriptors and services the foreign loop when one is ready, and its
// timers run on the loop's ([Sleep], [After], [Loop.AfterFunc]).
// examples/tcl does this for Tcl.
//
// # Resources
//
// A [Resource] is an async context manager: [With] enters it, runs a block and
// exits it exactly once, telling Exit how the block ended and joining Exit's
// error to the block's. If the block panics, Exit runs and the panic goes on.
// [Enter] splits With in two, and [OnClose] registers cleanup for the loop's
// Close (threadrunner's Open and Keep are built on both).
//
// A resource has a lifetime: the context its Enter sees lives until its Exit
// has returned, even when Enter ran in a task that ended long before. The
// alternative, Enter seeing its task's context as every task does, is what
// asyncio's users hit with aiohttp: a response opened with a context that
// ends with the opening task fails to read a moment later, and every
// resource had to know to detach its context (context.WithoutCancel) and
// cancel it itself. Cancelling the entering task while Enter runs still ends
// the context, so Enter's awaits return at once.
//
// # Iterators
//
// A [Seq] is an async generator: a function that yields values and may await
// between them. A task consumes one by calling it or with [Collect]; another
// goroutine consumes one through a [Stream], which runs the generator as a
// task and hands its values over in batches with back-pressure.
//
// A consumer that stops early ([Stream.Close]; threadrunner.Iter's break)
// does not cancel the generator: yield returns false, or the await it is
// busy in returns [ErrStopped] once, and its cleanup then awaits as usual.
// Cancelling instead, as the loop does at Close, would make every await of
// the cleanup fail at once, so that closing a connection or returning a
// JavaScript iterator could not be awaited; Python's aclose stops a
// generator at its yield without cancelling it either. Cleanup that must
// await after a real cancellation uses [Shield].
//
// # Debugging
//
// [Loop.Tasks] and [Loop.WriteTasks] list the live tasks with what each
// awaits and where each is suspended; a [Loop.Shutdown] that runs out of
// time logs the same. Under runtime/trace each task is a trace task and
// each step a region; under [ProfileLabels] each step carries pprof labels
// naming its task. [SlowTask] reports steps that hold the loop too long, and
// [Loop.Stats] counts what a dashboard shows.
//
// # Shutdown
//
// [Loop.Close] refuses new work with [ErrClosed], runs the [OnClose] hooks,
// cancels every task and waits for them, waits for running [ToThread]
// functions, and stops the loop's goroutine. [Loop.Shutdown] does the same
// within a deadline, past which it cancels everything still running,
// [Shield]s included. [Run] does the same when its main task returns.
package aio
