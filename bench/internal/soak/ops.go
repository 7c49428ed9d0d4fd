package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
)

// A worker is one goroutine of the soak: it runs random operations on the
// runner and tallies how they ended. Its fields are its own until it exits.
type worker struct {
	s      *soak
	rng    *rand.Rand
	counts [numKinds]uint64
	lat    histogram // Run latency
	ids    uint64
}

// op is one kind of operation, with its share of the mix.
type op struct {
	name   string
	weight int
	run    func(w *worker)
}

var ops = []op{
	{"Run, value", 30, (*worker).runValue},
	{"Run, own error", 10, (*worker).runError},
	{"Run, panic", 5, (*worker).runPanic},
	{"Run, short deadline", 15, (*worker).runDeadline},
	{"Submit + Cancel", 15, (*worker).submitCancel},
	{"Iter broken off early", 10, (*worker).iterBreak},
	{"With, body fails", 15, (*worker).withFail},
}

var totalWeight = func() int {
	n := 0
	for _, o := range ops {
		n += o.weight
	}
	return n
}()

func (w *worker) loop() {
	for !w.s.stop.Load() {
		n := w.rng.IntN(totalWeight)
		for _, o := range ops {
			if n < o.weight {
				o.run(w)
				break
			}
			n -= o.weight
		}
	}
}

// record tallies one outcome; a disallowed one is also reported.
func (w *worker) record(k Kind, what, why string) {
	w.counts[k]++
	if k == Disallowed {
		w.s.disallowed(what + ": " + why)
	}
}

// protect calls fn and returns its results, or the value it panicked with.
func protect[T any](fn func() (T, error)) (v T, p any, err error) {
	defer func() { p = recover() }()
	v, err = fn()
	return v, nil, err
}

// timedRun is threadrunner.Run with its latency recorded.
func timedRun[T any](w *worker, ctx context.Context, fn func(*aio.Task) (T, error)) (T, any, error) {
	start := time.Now()
	v, p, err := protect(func() (T, error) { return threadrunner.Run(ctx, w.s.r, fn) })
	w.lat.add(time.Since(start))
	return v, p, err
}

func (w *worker) runValue() {
	x := w.rng.IntN(1 << 20)
	yield := x%4 == 0
	v, p, err := timedRun(w, context.Background(), func(t *aio.Task) (int, error) {
		if yield {
			if err := aio.Sleep(t, 0); err != nil {
				return 0, err
			}
		}
		return 2 * x, nil
	})
	k, why := classify(err, p, v == 2*x, allowed{}, w.s.closing.Load(), panicValue{})
	w.record(k, "Run, value", why)
}

func (w *worker) runError() {
	_, p, err := timedRun(w, context.Background(), func(*aio.Task) (int, error) {
		return 0, fmt.Errorf("wrapped: %w", errOwn)
	})
	k, why := classify(err, p, false, allowed{own: true}, w.s.closing.Load(), panicValue{})
	w.record(k, "Run, own error", why)
}

func (w *worker) runPanic() {
	w.ids++
	pv := panicValue{w.ids}
	_, p, err := timedRun(w, context.Background(), func(*aio.Task) (int, error) {
		panic(pv)
	})
	k, why := classify(err, p, false, allowed{panic: true}, w.s.closing.Load(), pv)
	w.record(k, "Run, panic", why)
}

func (w *worker) runDeadline() {
	x := w.rng.IntN(1 << 20)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Microsecond+rand.N(500*time.Microsecond))
	defer cancel()
	sleep := rand.N(600 * time.Microsecond)
	v, p, err := timedRun(w, ctx, func(t *aio.Task) (int, error) {
		if err := aio.Sleep(t, sleep); err != nil {
			return 0, err
		}
		return 3 * x, nil
	})
	k, why := classify(err, p, v == 3*x, allowed{ctx: true}, w.s.closing.Load(), panicValue{})
	w.record(k, "Run, short deadline", why)
}

func (w *worker) submitCancel() {
	x := w.rng.IntN(1 << 20)
	sleep := rand.N(500 * time.Microsecond)
	ctx := context.Background()
	f := threadrunner.Submit(ctx, w.s.r, func(t *aio.Task) (int, error) {
		if err := aio.Sleep(t, sleep); err != nil {
			return 0, err
		}
		return x, nil
	})
	if w.rng.IntN(2) == 0 {
		time.Sleep(rand.N(200 * time.Microsecond))
	}
	f.Cancel()
	v, p, err := protect(func() (int, error) { return f.Wait(ctx) })
	k, why := classify(err, p, v == x, allowed{ctx: true}, w.s.closing.Load(), panicValue{})
	w.record(k, "Submit + Cancel", why)
}

func (w *worker) iterBreak() {
	want := 1 + w.rng.IntN(600)
	var started, cleaned atomic.Bool
	seq := func(t *aio.Task, yield func(int) bool) error {
		started.Store(true)
		defer cleaned.Store(true)
		for i := 0; ; i++ {
			if i%97 == 96 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
	}
	got := 0
	var iterErr error
	_, p, _ := protect(func() (struct{}, error) {
		for v, err := range threadrunner.Iter(context.Background(), w.s.r, seq) {
			if err != nil {
				iterErr = err
				break
			}
			if v != got {
				iterErr = fmt.Errorf("value %d at position %d", v, got)
				break
			}
			if got++; got == want {
				break
			}
		}
		return struct{}{}, nil
	})
	if started.Load() && !cleaned.Load() {
		w.record(Disallowed, "Iter broken off early", "the range loop ended before the generator's cleanup ran")
		return
	}
	k, why := classify(iterErr, p, got == want, allowed{}, w.s.closing.Load(), panicValue{})
	w.record(k, "Iter broken off early", why)
}

// A resource counts its entries and exits; Exit records how the block ended.
type resource struct {
	id      int
	entered atomic.Bool
	exits   atomic.Int32
	how     error // written by Exit, on the loop; read after With returns
	order   *[]int
}

func (r *resource) Enter(*aio.Task) (int, error) {
	r.entered.Store(true)
	return r.id, nil
}

func (r *resource) Exit(_ *aio.Task, how error) error {
	r.exits.Add(1)
	r.how = how
	if r.order != nil {
		*r.order = append(*r.order, r.id) // loop-owned
	}
	return nil
}

func (w *worker) withFail() {
	res := &resource{id: w.rng.IntN(1 << 20)}
	var bodyRan bool
	err := threadrunner.With(context.Background(), w.s.r, res, func(v int) error {
		bodyRan = true
		if v != res.id {
			return fmt.Errorf("body got %d; want %d", v, res.id)
		}
		return fmt.Errorf("body: %w", errOwn)
	})
	closing := w.s.closing.Load()
	switch exits := res.exits.Load(); {
	case res.entered.Load() && exits != 1:
		w.record(Disallowed, "With, body fails", fmt.Sprintf("entered resource exited %d times; want 1", exits))
		return
	case !res.entered.Load() && (exits != 0 || bodyRan):
		w.record(Disallowed, "With, body fails", "body or Exit ran though Enter did not")
		return
	case bodyRan && res.how == nil:
		w.record(Disallowed, "With, body fails", "Exit saw nil though the body failed")
		return
	}
	k, why := classify(err, nil, false, allowed{own: true}, closing, panicValue{})
	w.record(k, "With, body fails", why)
}
