package stress

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// A resource records, on the loop, how it was entered and exited. Enter
// returns its id. Its counters are loop-owned: a worker reads them only once
// a call that synchronizes with the loop has returned (With, release), and
// the run reads those of the resources it retains once Close has returned, so
// the race detector checks that the library orders them.
type resource struct {
	id   int64
	kept bool
	seq  *int // the run's count of Enter and Exit calls; loop-owned

	enters, exits     int
	hows              []error // what each Exit was told
	enterSeq, exitSeq int     // when Enter and the last Exit ran, in the run's count

	// Set by the worker that used it, before it retains it.
	byClose bool // the call knows Close exited it, or will (kept, abandoned)
	refused bool // its call failed before using it: it may have been entered and exited at once
}

func (r *resource) Enter(*aio.Task) (int64, error) {
	r.enters++
	*r.seq++
	r.enterSeq = *r.seq
	return r.id, nil
}

func (r *resource) Exit(_ *aio.Task, how error) error {
	r.exits++
	r.hows = append(r.hows, how)
	*r.seq++
	r.exitSeq = *r.seq
	return nil
}

// check returns why r was not entered at most once and exited exactly as
// often, or "".
func (r *resource) check() string {
	if r.enters > 1 || r.exits != r.enters {
		return fmt.Sprintf("resource %d: entered %d times, exited %d times; want 0 and 0 or 1 and 1", r.id, r.enters, r.exits)
	}
	return ""
}

func (s *run) newResource(id int64, kept bool) *resource {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.made++
	return &resource{id: id, kept: kept, seq: &s.seq}
}

// settle retains r for the end of the run if its call left its fate open
// (byClose or refused); otherwise it checks r now, which the call that
// returned synchronized with, and drops it.
func (s *run) settle(r *resource) string {
	if !r.byClose && !r.refused {
		return r.check()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retained = append(s.retained, r)
	return ""
}

// keep keeps n resources before the load begins.
func (s *run) keep(n int) ([]*resource, error) {
	kept := make([]*resource, n)
	for i := range kept {
		kept[i] = s.newResource(-int64(i)-1, true)
		kept[i].byClose = true
		if _, err := threadrunner.Keep(context.Background(), s.r, kept[i]); err != nil {
			return nil, fmt.Errorf("stress: Keep: %w", err)
		}
		s.settle(kept[i])
	}
	return kept, nil
}

// checkKept returns how Close failed the resources kept before the load:
// each must have been exited once, seeing nil, last kept first.
func checkKept(kept []*resource) []string {
	var problems []string
	want := make([]int64, len(kept))
	for i, k := range kept {
		want[len(kept)-1-i] = k.id
		if k.exits != 1 || k.hows[0] != nil {
			problems = append(problems, fmt.Sprintf("kept resource %d: %d exits, last saw %v; want 1 exit seeing nil", k.id, k.exits, k.hows))
		}
	}
	byExit := slices.SortedFunc(slices.Values(kept), func(a, b *resource) int { return a.exitSeq - b.exitSeq })
	order := make([]int64, len(byExit))
	for i, k := range byExit {
		order[i] = k.id
	}
	if !slices.Equal(order, want) {
		problems = append(problems, fmt.Sprintf("kept resources exited in order %v; want %v", order, want))
	}
	return problems
}

// checkResources checks the retained resources once Close has returned: each
// entered at most once and exited as often; those that Close exited, exited
// last entered first, a kept one told nil and one still open ErrClosed.
func (s *run) checkResources(res *Result) []string {
	var problems []string
	var byClose []*resource
	for _, r := range s.retained {
		if p := r.check(); p != "" {
			problems = append(problems, p)
			continue
		}
		if r.byClose {
			if r.enters != 1 {
				problems = append(problems, fmt.Sprintf("resource %d: its call says it was entered, but Enter ran %d times", r.id, r.enters))
				continue
			}
			byClose = append(byClose, r)
		}
	}
	slices.SortFunc(byClose, func(a, b *resource) int { return a.exitSeq - b.exitSeq })
	for i, r := range byClose {
		if how := r.hows[0]; r.kept && how != nil || !r.kept && !errors.Is(how, aio.ErrClosed) {
			problems = append(problems, fmt.Sprintf("resource %d (kept %v) was told %v by Close", r.id, r.kept, how))
		}
		if i > 0 && byClose[i-1].enterSeq < r.enterSeq {
			problems = append(problems, fmt.Sprintf("Close exited resource %d (entered at %d) before resource %d (entered at %d); want reverse order of entry",
				byClose[i-1].id, byClose[i-1].enterSeq, r.id, r.enterSeq))
		}
	}
	res.Resources, res.ByClose = s.made, len(byClose)
	return problems
}

// How a With body ends.
const (
	bodyOK     = iota // returns nil
	bodyFails         // returns its own error
	bodyPanics        // panics with its own value
)

// withOp returns the op that runs With with a body that ends in one of modes.
func withOp(modes ...int) func(w *worker, id int64) outcome {
	return func(w *worker, id int64) outcome { return w.with(id, modes[w.rng.IntN(len(modes))]) }
}

func (w *worker) with(id int64, mode int) outcome {
	res := w.s.newResource(id, false)
	own, ownPanic := &opError{id}, &panicValue{id}
	bodyRuns := 0
	var err error
	p := testkit.RecoverPanic(func() {
		err = threadrunner.With(context.Background(), w.s.r, res, func(v int64) error {
			bodyRuns++
			if v != id {
				return fmt.Errorf("body got %d; want %d", v, id)
			}
			switch mode {
			case bodyFails:
				return fmt.Errorf("body: %w", own)
			case bodyPanics:
				panic(ownPanic)
			}
			return nil
		})
	})
	// With has returned (or its body's panic has gone on) after the Exit it
	// ran: what the resource saw is safe to read.
	var bad string
	switch {
	case bodyRuns > 1:
		bad = fmt.Sprintf("body ran %d times", bodyRuns)
	case res.enters == 1 && res.exits != 1:
		bad = fmt.Sprintf("entered resource exited %d times; want 1", res.exits)
	case res.enters == 0 && (res.exits != 0 || bodyRuns != 0):
		bad = "body or Exit ran though Enter did not"
	case bodyRuns == 1 && mode != bodyOK && res.hows[0] == nil:
		bad = "Exit saw nil though the body failed"
	case p != nil && (mode != bodyPanics || bodyRuns != 1):
		bad = fmt.Sprintf("panicked with %v (mode %d)", p, mode)
	case p != nil:
	case mode == bodyPanics && bodyRuns == 1:
		bad = fmt.Sprintf("returned %v after the body panicked; want the panic to go on", err)
	case mode == bodyFails && bodyRuns == 1 && !errors.Is(err, own):
		bad = fmt.Sprintf("returned %v; want the body's error", err)
	case mode == bodyOK && bodyRuns == 1 && err != nil && !errors.Is(err, aio.ErrClosed):
		bad = fmt.Sprintf("returned %v; want nil or ErrClosed", err)
	case bodyRuns == 0 && err == nil:
		bad = "returned nil without running the body"
	}
	res.refused = bodyRuns == 0
	res.byClose = bodyRuns == 1 && p == nil && errors.Is(err, aio.ErrClosed)
	if bad == "" {
		bad = w.s.settle(res)
	}
	o := outcome{err: err, p: p, bad: bad}
	if p != nil {
		o.panic, o.raw = ownPanic, true
	}
	if mode == bodyFails && bodyRuns == 1 {
		o.own = own
	}
	return o
}

func (w *worker) openRelease(id int64) outcome {
	res := w.s.newResource(id, false)
	v, release, err := threadrunner.Open(context.Background(), w.s.r, res)
	if err != nil {
		res.refused = true
		o := outcome{err: err, bad: w.s.settle(res)}
		if release != nil || v != 0 {
			o.bad = fmt.Sprintf("failed with %v but returned %d and a release", err, v)
		}
		return o
	}
	if v != id {
		res.byClose = true // not released: Close exits it
		w.s.settle(res)
		return outcome{bad: fmt.Sprintf("Open() = %d; want %d", v, id)}
	}
	if w.rng.IntN(2) == 0 {
		_, _ = threadrunner.Run(context.Background(), w.s.r, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) })
	}
	var how error
	if w.rng.IntN(2) == 0 {
		how = &opError{id}
	}
	err = release(how)
	o := outcome{err: err}
	if err2 := release(how); err2 != nil {
		o.bad = fmt.Sprintf("second release() = %v; want nil", err2)
	}
	if errors.Is(err, aio.ErrClosed) {
		res.byClose = true
	} else if len(res.hows) != 1 || res.hows[0] != how {
		// release synchronizes with the Exit it ran: reading is safe.
		o.bad = fmt.Sprintf("release(%v) = %v, and Exit was told %v; want it told %v", how, err, res.hows, how)
	}
	if bad := w.s.settle(res); o.bad == "" {
		o.bad = bad
	}
	return o
}

func (w *worker) openAbandon(id int64) outcome {
	res := w.s.newResource(id, false)
	v, release, err := threadrunner.Open(context.Background(), w.s.r, res)
	if err != nil {
		res.refused = true
		return outcome{err: err, bad: w.s.settle(res)}
	}
	res.byClose = true // never released: Close must exit it
	w.s.settle(res)
	if v != id || release == nil {
		return outcome{bad: fmt.Sprintf("Open() = %d, release nil %v; want %d and a release", v, release == nil, id)}
	}
	return outcome{}
}

func (w *worker) keepOne(id int64) outcome {
	res := w.s.newResource(id, true)
	v, err := threadrunner.Keep(context.Background(), w.s.r, res)
	if err != nil {
		res.refused = true
		return outcome{err: err, bad: w.s.settle(res)}
	}
	res.byClose = true
	w.s.settle(res)
	if v != id {
		return outcome{bad: fmt.Sprintf("Keep() = %d; want %d", v, id)}
	}
	return outcome{}
}
