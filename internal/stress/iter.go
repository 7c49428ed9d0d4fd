package stress

import (
	"context"
	"errors"
	"fmt"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// A generator counts, on the loop, how often it started and how often its
// deferred cleanup ran. Its counts are read once the range loop over it has
// ended, which its cleanup must precede: the race detector checks that
// Iter orders them.
type generator struct {
	started, cleaned int
}

// check returns why the range loop should not have ended yet, or "".
func (g *generator) check() string {
	if g.started > 1 || g.cleaned != g.started {
		return fmt.Sprintf("the range loop ended with the generator started %d times and cleaned up %d times; want its cleanup done, and at most one start", g.started, g.cleaned)
	}
	return ""
}

func (w *worker) iterBreak(int64) outcome {
	g := &generator{}
	seq := func(t *aio.Task, yield func(int) bool) error {
		g.started++
		defer func() { g.cleaned++ }()
		for i := 0; ; i++ {
			if i%37 == 36 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
	}
	k := 1 + w.rng.IntN(600)
	var opts []threadrunner.IterOption
	if batch := []int{0, 1, 3, 16, 256}[w.rng.IntN(5)]; batch > 0 {
		opts = append(opts, threadrunner.BatchSize(batch))
	}
	n := 0
	var o outcome
	for v, err := range threadrunner.Iter(context.Background(), w.s.r, seq, opts...) {
		if err != nil {
			if v != 0 {
				o.bad = fmt.Sprintf("yielded (%d, %v); want a zero value with the error", v, err)
			}
			o.err = err // the only error it may end with is ErrClosed
			break
		}
		if v != n {
			o.bad = fmt.Sprintf("value %d is %d; want %d", n, v, n)
			break
		}
		if n++; n == k {
			break
		}
	}
	if o.bad == "" {
		o.bad = g.check()
	}
	if o.bad == "" && o.err == nil && n != k {
		o.bad = fmt.Sprintf("the range loop ended after %d values and no error; want %d", n, k)
	}
	return o
}

func (w *worker) iterError(id int64) outcome {
	own := &opError{id}
	g := &generator{}
	o := w.rangeAll(g, w.rng.IntN(50), func(*aio.Task) error { return own }, own)
	if o.bad == "" {
		o.bad = g.check()
	}
	return o
}

func (w *worker) iterPanic(id int64) outcome {
	own := &panicValue{id}
	total := w.rng.IntN(50)
	g := &generator{}
	var o outcome
	if p := testkit.RecoverPanic(func() { o = w.rangeAll(g, total, func(*aio.Task) error { panic(own) }, nil) }); p != nil {
		o.p = p
	}
	if o.bad == "" {
		o.bad = g.check() // the panic goes on only once the cleanup has run
	}
	o.panic = own // without the panic, it may end only with ErrClosed
	return o
}

// rangeAll ranges over g, a generator of total values that then runs last,
// and checks that every value came in order, followed by own (if not nil) or
// by ErrClosed.
func (w *worker) rangeAll(g *generator, total int, last func(t *aio.Task) error, own error) (o outcome) {
	seq := func(t *aio.Task, yield func(int) bool) error {
		g.started++
		defer func() { g.cleaned++ }()
		for i := range total {
			if i%5 == 4 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
		return last(t)
	}
	o.own = own
	n := 0
	for v, err := range threadrunner.Iter(context.Background(), w.s.r, seq, threadrunner.BatchSize(4)) {
		if err != nil {
			o.err = err
			switch {
			case v != 0:
				o.bad = fmt.Sprintf("yielded (%d, %v); want a zero value with the error", v, err)
			case own != nil && errors.Is(err, own) && n != total:
				o.bad = fmt.Sprintf("yielded its error after %d values; want %d first", n, total)
			}
			return o
		}
		if v != n {
			o.bad = fmt.Sprintf("value %d is %d; want %d", n, v, n)
			return o
		}
		n++
	}
	o.bad = fmt.Sprintf("the range loop ended after %d values without the generator's error or panic", n)
	return o
}
