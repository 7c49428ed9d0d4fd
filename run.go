package threadrunner

import (
	"context"

	"github.com/threadrunner/threadrunner/aio"
)

// Run runs fn as a task on the runner's loop and waits for it to end, from any
// goroutine (the seed's runner.run): it returns the task's value and error,
// unchanged. When ctx ends, the task is cancelled: its context is done and its
// current or next await returns ctx's error; Run returns once the task has
// ended, with an error that is (errors.Is) ctx's error. The task's context
// carries ctx's values. If the task panics, Run panics with its
// *aio.PanicError, in the calling goroutine; the loop serves on.
//
// Run is safe to call from any number of goroutines at once; the first call
// starts the loop. After Close it returns [aio.ErrClosed]. Called from the
// loop's own thread (inside a task), it returns [aio.ErrLoopThread] at once:
// use [aio.Go] and [aio.Await] there. The end of the task synchronizes before
// Run returns.
func Run[T any](ctx context.Context, r *Runner, fn func(*aio.Task) (T, error)) (T, error) {
	l, err := r.start()
	if err != nil {
		var zero T
		return zero, err
	}
	return aio.Call(ctx, l, fn)
}

// Submit starts fn as a task on the runner's loop and returns its future at
// once (asyncio's run_coroutine_threadsafe): wait for it with
// [aio.Future.Wait], cancel it with [aio.Future.Cancel]. As with Run, ctx's end
// cancels the task and the task's context carries ctx's values. On a closed
// runner, with a nil fn or an ended ctx, the future has already failed
// ([aio.ErrClosed], [aio.ErrInvalid], ctx's error). Submit never blocks and is
// safe to call from any goroutine, the loop's own included.
func Submit[T any](ctx context.Context, r *Runner, fn func(*aio.Task) (T, error)) *aio.Future[T] {
	l, err := r.start()
	if err != nil {
		var zero T
		return aio.Completed(zero, err)
	}
	return aio.Spawn(ctx, l, fn)
}
