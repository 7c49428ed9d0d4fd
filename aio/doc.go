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
// A panic that nobody retrieves is logged when the loop closes, and returned
// by [Loop.Close]. A task that calls runtime.Goexit (as t.FailNow does) does
// not kill the loop either: whoever waits for it calls runtime.Goexit in turn.
//
// # Resources
//
// A [Resource] is an async context manager: [With] enters it, runs a block and
// exits it exactly once, telling Exit how the block ended and joining Exit's
// error to the block's. If the block panics, Exit runs and the panic goes on.
//
// # Iterators
//
// A [Seq] is an async generator: a function that yields values and may await
// between them. A task consumes one by calling it or with [Collect]; another
// goroutine consumes one through a [Stream], which runs the generator as a
// task and hands its values over in batches with back-pressure.
//
// # Shutdown
//
// [Loop.Close] refuses new work with [ErrClosed], cancels every task and waits
// for them, waits for running [ToThread] functions, and stops the loop's
// goroutine. [Run] does the same when its main task returns.
package aio
