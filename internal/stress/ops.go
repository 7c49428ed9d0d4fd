package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/goid"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// An Op is one kind of call the workers make, with its share of the mix.
type Op struct {
	Name   string
	Weight int // how often it is picked, against the other ops' weights
	call   func(w *worker, id int64) outcome
}

// Full returns every operation, equally likely: Run with values, errors,
// panics, deadlines, ToThread and groups; Submit, with and without Cancel; Iter
// broken off early, ending with an error and panicking; With whose body
// returns, fails or panics; Open then release, Open never released; Keep.
// Kept and abandoned resources pile up until Close, so it suits short runs.
func Full() []Op {
	return []Op{
		{"Run, value", 1, (*worker).runValue},
		{"Run, own error", 1, (*worker).runError},
		{"Run, panic", 1, (*worker).runPanic},
		{"Run, short deadline", 1, (*worker).runDeadline},
		{"Run, ToThread", 1, (*worker).runToThread},
		{"Run, Group", 1, (*worker).runGroup},
		{"Submit, value", 1, (*worker).submitValue},
		{"Submit + Cancel", 1, (*worker).submitCancel},
		{"Iter broken off early", 1, (*worker).iterBreak},
		{"Iter, generator error", 1, (*worker).iterError},
		{"Iter, generator panic", 1, (*worker).iterPanic},
		{"With", 1, withOp(bodyOK, bodyFails, bodyPanics)},
		{"Open + release", 1, (*worker).openRelease},
		{"Open, abandoned", 1, (*worker).openAbandon},
		{"Keep", 1, (*worker).keepOne},
	}
}

// Steady returns the soak's mix, whose calls leave nothing behind, so that a
// long run's memory stays flat: Run with values (30%), its own errors (10%),
// panics (5%) and short deadlines (15%); Submit + Cancel (15%); Iter broken
// off early (10%); With whose body fails (15%).
func Steady() []Op {
	return []Op{
		{"Run, value", 30, (*worker).runValue},
		{"Run, own error", 10, (*worker).runError},
		{"Run, panic", 5, (*worker).runPanic},
		{"Run, short deadline", 15, (*worker).runDeadline},
		{"Submit + Cancel", 15, (*worker).submitCancel},
		{"Iter broken off early", 10, (*worker).iterBreak},
		{"With, body fails", 15, withOp(bodyFails)},
	}
}

// A worker is one calling goroutine. Its fields are its own until it exits.
type worker struct {
	s      *run
	n      int // its index
	rng    *rand.Rand
	counts [][NumKinds]uint64 // by op of the mix
	lat    Histogram          // of its threadrunner.Run calls
}

func newWorker(s *run, n int) *worker {
	return &worker{s: s, n: n, rng: rand.New(rand.NewPCG(s.cfg.Seed, uint64(n)+1)), counts: make([][NumKinds]uint64, len(s.mix))}
}

// loop makes calls until Close has returned and it has made AfterClose calls
// since.
func (w *worker) loop() {
	after := 0
	for {
		if w.s.closed.Load() {
			if after >= w.s.cfg.AfterClose {
				return
			}
			after++
		}
		w.do(w.pick())
	}
}

// pick returns the index of an op of the mix, drawn by weight.
func (w *worker) pick() int {
	n := w.rng.IntN(w.s.total)
	for i, op := range w.s.mix {
		if n < op.Weight {
			return i
		}
		n -= op.Weight
	}
	panic("stress: pick ran past the mix")
}

// do makes one call of op i and tallies how it ended.
func (w *worker) do(i int) {
	op := w.s.mix[i]
	id := w.s.ids.Add(1)
	w.s.inflight[w.n].Store(&call{op: op.Name, id: id, began: time.Now()})
	defer w.s.inflight[w.n].Store(nil)
	wasClosed := w.s.closed.Load()
	var o outcome
	if p := testkit.RecoverPanic(func() { o = op.call(w, id) }); p != nil {
		o = outcome{p: p} // no panic was allowed
	}
	k, why := classify(o, w.s.closing.Load())
	if k != Disallowed && k != Closed && wasClosed {
		k, why = Disallowed, fmt.Sprintf("ended with %v after Close had returned; want ErrClosed", k)
	}
	w.counts[i][k]++
	if k == Disallowed {
		w.s.disallowed(op.Name, id, why)
	}
}

// timedRun is threadrunner.Run with its latency recorded and its panic
// recovered.
func timedRun[T any](w *worker, ctx context.Context, fn func(*aio.Task) (T, error)) (v T, p any, err error) {
	start := time.Now()
	p = testkit.RecoverPanic(func() { v, err = threadrunner.Run(ctx, w.s.r, fn) })
	w.lat.Add(time.Since(start))
	return v, p, err
}

// wait waits for f, for at most StuckAfter; bad says if it did not return.
func (w *worker) wait(f *aio.Future[int64]) (v int64, p any, bad string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.s.cfg.StuckAfter)
	defer cancel()
	p = testkit.RecoverPanic(func() { v, err = f.Wait(ctx) })
	if ctx.Err() != nil && !f.Settled() {
		bad = fmt.Sprintf("Wait did not return within %v; goroutines:\n%s", w.s.cfg.StuckAfter, goid.Stacks())
	}
	return v, p, bad, err
}

func (w *worker) runValue(id int64) outcome {
	mode := w.rng.IntN(3)
	v, p, err := timedRun(w, context.Background(), func(t *aio.Task) (int64, error) {
		switch mode {
		case 1:
			return 2 * id, aio.Sleep(t, 0)
		case 2:
			return aio.Await(t, aio.Go(t, func(*aio.Task) (int64, error) { return 2 * id, nil }))
		}
		return 2 * id, nil
	})
	return outcome{err: err, p: p, bad: value(v, 2*id, err)}
}

func (w *worker) runError(id int64) outcome {
	own := &opError{id}
	nap := w.rng.IntN(2) == 0
	v, p, err := timedRun(w, context.Background(), func(t *aio.Task) (int64, error) {
		if nap {
			_ = aio.Sleep(t, 0)
		}
		return 0, fmt.Errorf("wrapped: %w", own)
	})
	o := outcome{err: err, p: p, own: own}
	if err == nil || v != 0 {
		o.bad = fmt.Sprintf("returned %d, %v; want 0 and its error", v, err)
	}
	return o
}

func (w *worker) runPanic(id int64) outcome {
	own := &panicValue{id}
	nap := w.rng.IntN(2) == 0
	_, p, err := timedRun(w, context.Background(), func(t *aio.Task) (int64, error) {
		if nap {
			_ = aio.Sleep(t, 0)
		}
		panic(own)
	})
	return outcome{err: err, p: p, panic: own}
}

func (w *worker) runDeadline(id int64) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Microsecond+rand.N(500*time.Microsecond))
	defer cancel()
	sleep := rand.N(600 * time.Microsecond)
	v, p, err := timedRun(w, ctx, func(t *aio.Task) (int64, error) {
		return 3 * id, aio.Sleep(t, sleep)
	})
	return outcome{err: err, p: p, ctx: context.DeadlineExceeded, bad: value(v, 3*id, err)}
}

func (w *worker) runToThread(id int64) outcome {
	own := &panicValue{id}
	panics := w.rng.IntN(3) == 0
	v, p, err := timedRun(w, context.Background(), func(t *aio.Task) (int64, error) {
		return aio.ToThread(t, func(context.Context) (int64, error) {
			if panics {
				panic(own)
			}
			return 2 * id, nil
		})
	})
	if panics {
		return outcome{err: err, p: p, panic: own}
	}
	return outcome{err: err, p: p, bad: value(v, 2*id, err)}
}

func (w *worker) runGroup(id int64) outcome {
	own := &opError{id}
	_, p, err := timedRun(w, context.Background(), func(t *aio.Task) (int64, error) {
		g := aio.NewGroup(t)
		for i := range 3 {
			g.Go(func(t *aio.Task) error {
				if i == 1 {
					return own
				}
				return aio.Sleep(t, time.Hour) // cancelled by the failure
			})
		}
		return 0, g.Wait()
	})
	o := outcome{err: err, p: p, own: own}
	if err == nil && p == nil {
		o.bad = "returned nil; want the group's error"
	}
	return o
}

func (w *worker) submitValue(id int64) outcome {
	f := threadrunner.Submit(context.Background(), w.s.r, func(t *aio.Task) (int64, error) { return id, nil })
	v, p, bad, err := w.wait(f)
	if bad == "" {
		bad = value(v, id, err)
	}
	return outcome{err: err, p: p, bad: bad}
}

func (w *worker) submitCancel(id int64) outcome {
	mode := w.rng.IntN(3) // 0: the task awaits until cancelled, 1: returns at once, 2: after a short sleep
	sleep := rand.N(500 * time.Microsecond)
	f := threadrunner.Submit(context.Background(), w.s.r, func(t *aio.Task) (int64, error) {
		switch mode {
		case 0:
			return 0, aio.Sleep(t, time.Hour)
		case 2:
			if err := aio.Sleep(t, sleep); err != nil {
				return 0, err
			}
		}
		return id, nil
	})
	switch w.rng.IntN(3) {
	case 1:
		runtime.Gosched()
	case 2:
		time.Sleep(rand.N(200 * time.Microsecond))
	}
	f.Cancel()
	v, p, bad, err := w.wait(f)
	switch {
	case bad != "":
	case mode == 0 && err == nil:
		bad = fmt.Sprintf("returned %d, nil; want context.Canceled", v)
	default:
		bad = value(v, id, err)
	}
	return outcome{err: err, p: p, ctx: context.Canceled, bad: bad}
}
