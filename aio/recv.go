package aio

// Recv receives from ch without blocking the loop: it suspends t until a value
// arrives or ch is closed, and returns the value and ok as a receive
// statement would. If t is cancelled, Recv returns the context's error; a
// value received concurrently with the cancellation is returned rather than
// lost, and the next await sees the cancellation. A nil ch blocks until t is
// cancelled, as a receive from a nil channel blocks. Recv must be called by t
// itself.
func Recv[T any](t *Task, ch <-chan T) (T, bool, error) {
	t.mustRun("Recv")
	var zero T
	if err := t.awaitErr(); err != nil {
		return zero, false, err
	}
	select {
	case v, ok := <-ch:
		return v, ok, nil
	default:
	}
	t.mustSuspend("Recv") // before the helper starts
	l := t.l
	r := &recvOp[T]{t: t, ch: ch, stop: make(chan struct{})}
	l.helpers.Add(1)
	go r.wait(l, ch)
	var stopErr error
	for !r.back {
		t.waitOn = r
		t.suspend("Recv")
		if stopErr == nil {
			if stopErr = t.awaitErr(); stopErr != nil {
				close(r.stop)
			}
		}
	}
	if r.got {
		return r.v, r.ok, nil
	}
	return zero, false, stopErr
}

// A recvOp is one blocking Recv: a helper goroutine waits on the channel, or
// on stop, and posts itself back to the loop either way.
type recvOp[T any] struct {
	itemLink
	t    *Task
	ch   <-chan T // for the task dump
	stop chan struct{}
	v    T
	ok   bool
	got  bool // a receive happened
	back bool // loop-owned: the helper has answered
}

func (r *recvOp[T]) wait(l *Loop, ch <-chan T) {
	defer l.helpers.Done()
	select {
	case r.v, r.ok = <-ch:
		r.got = true
	case <-r.stop:
	}
	l.inbox.post(r)
}

func (r *recvOp[T]) runOnLoop(l *Loop) {
	r.back = true
	l.wake(r.t)
}
