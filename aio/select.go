package aio

import (
	"reflect"
	"time"
)

// A Case is one of the things [Select] waits for: a future settling
// ([Settles]), an event being set ([IsSet]), a value arriving on a channel
// ([Receive]), or time passing ([After]). A Case is used by one Select at a
// time.
type Case interface {
	ready() bool                       // whether it holds now (a Receive tries a receive)
	arm(t *Task, w *selectWait, i int) // makes the case wake t when it may hold
	disarm(t *Task)                    // undoes arm
}

// Select suspends t until the first of cases holds, and returns its index:
// asyncio's wait(return_when=FIRST_COMPLETED), or Go's select, for tasks. If
// several hold at once, the lowest index wins (not a random one, so that the
// order of cases can give a priority), except that a [Receive] that has taken
// a value always wins, so that no value is lost. If t is cancelled first,
// Select returns -1 and the context's error. Nothing a case waits for is
// consumed unless its case wins: a future or an event stays as it is, and a
// channel value not taken stays in the channel. With no cases, Select waits
// until t is cancelled. Select must be called by t itself; a nil Case, or a
// future of another loop that has not settled, returns [ErrInvalid].
func Select(t *Task, cases ...Case) (int, error) {
	t.mustRun("Select")
	for i, c := range cases {
		if c == nil || reflect.ValueOf(c).IsNil() {
			return -1, invalid("Select: case %d is nil", i)
		}
		if fc, ok := c.(interface{ loopOf() *Loop }); ok && fc.loopOf() != nil && fc.loopOf() != t.l {
			return -1, invalid("Select: case %d: a future of %v awaited by a task of %v", i, fc.loopOf(), t.l)
		}
	}
	if err := t.awaitErr(); err != nil {
		return -1, err
	}
	for i, c := range cases {
		if c.ready() {
			return i, nil
		}
	}
	t.mustSuspend("Select")
	w := &selectWait{t: t, got: -1}
	for i, c := range cases {
		c.arm(t, w, i)
	}
	defer func() {
		for _, c := range cases {
			c.disarm(t)
		}
	}()
	w.watch()
	var stopErr error
	for {
		t.suspend("Select")
		if stopErr == nil {
			stopErr = t.awaitErr()
		}
		if w.got >= 0 {
			return w.got, nil
		}
		winner := -1
		for i, c := range cases {
			if _, recv := c.(receiver); !recv && stopErr == nil && c.ready() {
				winner = i
				break
			}
		}
		if winner < 0 && stopErr == nil {
			continue // woken for nothing, or by the helper coming back empty
		}
		// Decided, unless the channels' helper takes a value meanwhile: stop
		// it and wait for its answer.
		w.unwatch()
		for w.watching {
			t.suspend("Select")
		}
		switch {
		case w.got >= 0:
			return w.got, nil
		case stopErr != nil:
			return -1, stopErr
		}
		return winner, nil
	}
}

// A selectWait is one Select's wait: it watches the Receive cases'
// channels with one helper goroutine, so that at most one value is taken.
type selectWait struct {
	itemLink
	t     *Task
	recvs []receiver // the Receive cases, in order
	stop  chan struct{}

	// Written by the helper before it posts the selectWait back.
	chosen int
	value  reflect.Value
	ok     bool

	// Loop-owned.
	watching bool // the helper has not come back yet
	got      int  // the index of the Receive case that took a value, or -1
}

// watch starts the helper, if there are channels to watch.
func (w *selectWait) watch() {
	if len(w.recvs) == 0 {
		return
	}
	l := w.t.l
	w.stop, w.watching = make(chan struct{}), true
	cases := make([]reflect.SelectCase, 0, len(w.recvs)+1)
	for _, r := range w.recvs {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: r.channel()})
	}
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.stop)})
	l.helpers.Add(1)
	go func() {
		defer l.helpers.Done()
		w.chosen, w.value, w.ok = reflect.Select(cases)
		l.inbox.post(w)
	}()
}

// unwatch asks the helper to come back without a value, if it has not.
func (w *selectWait) unwatch() {
	if w.watching && w.stop != nil {
		close(w.stop)
		w.stop = nil
	}
}

// runOnLoop takes the helper's answer: a value for one Receive case, or
// none.
func (w *selectWait) runOnLoop(l *Loop) {
	w.watching = false
	if w.chosen < len(w.recvs) {
		r := w.recvs[w.chosen]
		r.deliver(w.value, w.ok)
		w.got = r.index()
	}
	w.unwatch()
	l.wake(w.t)
}

// Settles is the Case of f settling. f must belong to the task's loop, or
// have settled. The case does not retrieve f's outcome: [Await] it after.
func Settles[T any](f *Future[T]) Case { return &futureCase[T]{f: f} }

type futureCase[T any] struct{ f *Future[T] }

func (c *futureCase[T]) ready() bool { return c.f.Settled() }

func (c *futureCase[T]) loopOf() *Loop {
	if c.f.Settled() {
		return nil
	}
	return c.f.l
}

func (c *futureCase[T]) arm(t *Task, _ *selectWait, _ int) { c.f.addWaiter(t) }
func (c *futureCase[T]) disarm(t *Task)                    { c.f.removeWaiter(t) }

// IsSet is the Case of e being set.
func IsSet(e *Event) Case { return (*eventCase)(e) }

type eventCase Event

func (c *eventCase) ready() bool { return c.set }

func (c *eventCase) arm(t *Task, _ *selectWait, _ int) {
	(*Event)(c).b.bind(t, "Select on an Event")
	c.waiters.tasks = append(c.waiters.tasks, t)
}

func (c *eventCase) disarm(t *Task) { c.waiters.remove(t) }

// After is the Case of d passing, counted from the moment Select is called,
// on the loop's timers.
func After(d time.Duration) Case { return &afterCase{d: d} }

type afterCase struct {
	d  time.Duration
	tm timer
}

func (c *afterCase) ready() bool { return c.d <= 0 || c.tm.fired }

func (c *afterCase) arm(t *Task, _ *selectWait, _ int) {
	c.tm = timer{task: t, when: t.l.deadline(c.d)}
	t.l.timers.add(&c.tm)
}

func (c *afterCase) disarm(t *Task) { t.l.timers.remove(&c.tm) }

// Receive is the Case of a value arriving on ch, or of ch being closed.
// When it wins, the value is stored in *v, and whether it came from a send
// in *ok, as v, ok := <-ch would store them (either pointer may be nil). A
// nil ch never holds. While Select waits, the channel is watched by a
// goroutine, as [Recv] does, so the loop is not blocked.
func Receive[T any](ch <-chan T, v *T, ok *bool) Case { return &recvCase[T]{ch: ch, v: v, ok: ok} }

type recvCase[T any] struct {
	ch <-chan T
	v  *T
	ok *bool
	i  int // the case's index in its Select
}

// A receiver is a Receive case, as selectWait sees it.
type receiver interface {
	channel() reflect.Value
	deliver(v reflect.Value, ok bool)
	index() int
}

func (c *recvCase[T]) ready() bool {
	select {
	case x, ok := <-c.ch:
		c.store(x, ok)
		return true
	default:
		return false
	}
}

func (c *recvCase[T]) store(x T, ok bool) {
	if c.v != nil {
		*c.v = x
	}
	if c.ok != nil {
		*c.ok = ok
	}
}

func (c *recvCase[T]) arm(_ *Task, w *selectWait, i int) {
	c.i = i
	if c.ch != nil {
		w.recvs = append(w.recvs, c)
	}
}

func (c *recvCase[T]) disarm(*Task)           {}
func (c *recvCase[T]) channel() reflect.Value { return reflect.ValueOf(c.ch) }
func (c *recvCase[T]) index() int             { return c.i }

func (c *recvCase[T]) deliver(v reflect.Value, ok bool) {
	var x T
	if ok {
		x = v.Interface().(T)
	}
	c.store(x, ok)
}
