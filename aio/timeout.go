package aio

import (
	"context"
	"time"
)

// Timeout runs fn as a child task of t whose context has a deadline d from
// now, waits for it, and returns its outcome. When the deadline passes, the
// child is cancelled: its current or next await returns
// context.DeadlineExceeded, and so does Timeout (errors.Is). Use it to bound
// any await: Timeout(t, d, func(t *Task) (T, error) { return Await(t, f) }).
// If fn panics, Timeout panics with its *[PanicError]. Timeout must be called
// by t itself.
func Timeout[T any](t *Task, d time.Duration, fn func(*Task) (T, error)) (T, error) {
	t.mustRun("Timeout")
	return runBounded(t, fn, childOpts{deadline: time.Now().Add(d)})
}

// Shield runs fn with t's cancellation held off, for at most grace, and
// returns fn's error: cleanup that must still await after a cancellation
// (close a connection through ToThread, await a remote's goodbye) runs in
// it. fn runs as a task of its own, given as its argument, whose context
// has t's values and a deadline grace from now but nothing of t's
// cancellation: cancelling t, its caller's context ending, and the loop's
// Close do not reach it; its deadline does, and so does [Loop.Shutdown]'s
// ctx ending, so a shield never outlasts a Shutdown's deadline. t waits for
// fn even if it is cancelled meanwhile. If fn panics, Shield panics in t
// with its *[PanicError]; if it calls runtime.Goexit, so does Shield. Shield
// must be called by t itself. It is Go's context.WithoutCancel plus a
// timeout, for tasks (anyio's shielded cancel scope):
//
//	defer func() {
//		// Even if t was cancelled, say goodbye, within a second.
//		err = errors.Join(err, aio.Shield(t, time.Second, func(t *aio.Task) error {
//			_, err := aio.ToThread(t, conn.CloseGracefully)
//			return err
//		}))
//	}()
func Shield(t *Task, grace time.Duration, fn func(*Task) error) error {
	t.mustRun("Shield")
	if fn == nil {
		return invalid("Shield: nil function")
	}
	_, err := runBounded(t, func(t *Task) (struct{}, error) { return struct{}{}, fn(t) },
		childOpts{deadline: time.Now().Add(grace), detached: true, immune: true})
	return err
}

// runBounded runs fn as a child task of t with opts, a deadline among them,
// and waits for it even if t is cancelled meanwhile, so that no child
// outlives the call.
func runBounded[T any](t *Task, fn func(*Task) (T, error), opts childOpts) (T, error) {
	t.mustSuspend("Timeout or Shield") // before the child starts
	f := goChild(t, fn, opts)
	if child := f.task; child != nil {
		// The child's context enforces the deadline; the loop hears of it
		// only once that context is done, so no await of the child returns
		// context.DeadlineExceeded before its context says so.
		l, ctx := t.l, child.context()
		stop := context.AfterFunc(ctx, func() {
			if context.Cause(ctx) != errTaskEnded {
				l.postCancel(f, ctx.Err())
			}
		})
		defer stop()
	}
	awaitSettled(t, f)
	return f.result()
}
