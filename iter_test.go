package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// Tests of Iter (iter.go): values in order and in batches, back-pressure,
// how breaking, a ctx end and Close stop the generator, its errors and
// panics, bad input.

// count is a generator of 0, 1, ..., n-1 that awaits every few values.
func count(n int) aio.Seq[int] {
	return func(t *aio.Task, yield func(int) bool) error {
		for i := range n {
			if i%7 == 3 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
		return nil
	}
}

// collect ranges over seq and returns its values and the errors it yielded,
// failing t if an error comes with a non-zero value.
func collect[T comparable](t *testing.T, seq func(func(T, error) bool)) ([]T, []error) {
	t.Helper()
	var (
		vs   []T
		errs []error
		zero T
	)
	for v, err := range seq {
		if err != nil {
			if v != zero {
				t.Errorf("Iter yielded (%v, %v); want the zero value with an error", v, err)
			}
			errs = append(errs, err)
			continue
		}
		vs = append(vs, v)
	}
	return vs, errs
}

func TestIterValuesArriveInOrder(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	tests := []struct {
		name string
		opts []threadrunner.IterOption
		n    int
	}{
		{"empty", nil, 0},
		{"one", nil, 1},
		{"default", nil, 1000},
		{"batch 1", []threadrunner.IterOption{threadrunner.BatchSize(1)}, 100},
		{"batch 3 buffer 1", []threadrunner.IterOption{threadrunner.BatchSize(3), threadrunner.Buffer(1)}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offLoop := 0 // generator steps seen off the loop's thread; loop-owned
			gen := func(t *aio.Task, yield func(int) bool) error {
				return count(tt.n)(t, func(v int) bool {
					if testkit.ThreadID() != tid {
						offLoop++
					}
					return yield(v)
				})
			}
			vs, errs := collect(t, threadrunner.Iter(testkit.Context(t), r, gen, tt.opts...))
			if len(errs) != 0 {
				t.Fatalf("Iter yielded errors %v; want none", errs)
			}
			if len(vs) != tt.n {
				t.Fatalf("Iter yielded %d values; want %d", len(vs), tt.n)
			}
			for i, v := range vs {
				if v != i {
					t.Fatalf("value #%d = %d; want %d", i, v, i)
				}
			}
			if offLoop != 0 {
				t.Errorf("%d generator steps ran off the loop's thread; want 0", offLoop)
			}
		})
	}
}

func TestIterHandsOverFullBatches(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		batch int // 0: the default, 256
		n     int
	}{
		{2, 11},
		{16, 100},
		{0, 1000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("batch", tt.batch), func(t *testing.T) {
			batch := tt.batch
			var opts []threadrunner.IterOption
			if batch > 0 {
				opts = append(opts, threadrunner.BatchSize(batch))
			} else {
				batch = 256
			}
			// The generator never awaits, so a value crosses only with its
			// whole batch: when the consumer sees value i, the generator
			// has produced the rest of i's batch.
			var produced atomic.Int64
			gen := func(t *aio.Task, yield func(int) bool) error {
				for i := range tt.n {
					produced.Add(1)
					if !yield(i) {
						return nil
					}
				}
				return nil
			}
			i := 0
			for v, err := range threadrunner.Iter(testkit.Context(t), r, gen, opts...) {
				if err != nil {
					t.Fatalf("Iter yielded %v; want no error", err)
				}
				want := int64(min(tt.n, (v/batch+1)*batch))
				if got := produced.Load(); got < want {
					t.Fatalf("value %d arrived when %d values were produced; want at least %d (one hand-off per batch of %d)", v, got, want, batch)
				}
				i++
			}
			if i != tt.n {
				t.Errorf("Iter yielded %d values; want %d", i, tt.n)
			}
		})
	}
}

func TestIterBackPressure(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		batch, buffer int
	}{
		{2, 1},
		{4, 3},
		{1, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("batch%d/buffer%d", tt.batch, tt.buffer), func(t *testing.T) {
			ctx := testkit.Context(t)
			// A generator that never awaits and would run far ahead of its
			// consumer: only back-pressure suspends it.
			const limit = 100_000
			var produced atomic.Int64
			gen := func(t *aio.Task, yield func(int) bool) error {
				for i := range limit {
					produced.Add(1)
					if !yield(i) {
						return nil
					}
				}
				return nil
			}
			for range threadrunner.Iter(ctx, r, gen, threadrunner.BatchSize(tt.batch), threadrunner.Buffer(tt.buffer)) {
				// The consumer holds one batch and reads no further. A task
				// runs only once the generator has suspended, which it
				// does only when its buffer is full.
				if _, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) { return 0, nil }); err != nil {
					t.Fatalf("Run() = %v; want nil", err)
				}
				// Held by the consumer, waiting in the buffer, being filled.
				bound := int64((tt.buffer + 2) * tt.batch)
				if got := produced.Load(); got > bound {
					t.Errorf("generator ran %d values ahead of a stopped consumer; want at most %d", got, bound)
				}
				break
			}
		})
	}
}

func TestIterHandsOverPartialBatchWhenGeneratorAwaits(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	// The generator yields one value and then waits for the consumer to
	// ask for the next, so a batch never fills: each value must cross when
	// the generator awaits.
	next := make(chan struct{})
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := range 5 {
			if !yield(i) {
				return nil
			}
			if _, _, err := aio.Recv(t, next); err != nil {
				return err
			}
		}
		return nil
	}
	want := 0
	for v, err := range threadrunner.Iter(testkit.Context(t), r, gen) {
		if err != nil {
			t.Fatalf("Iter yielded %v after %d values; want value %d", err, want, want)
		}
		if v != want {
			t.Fatalf("Iter yielded %d; want %d", v, want)
		}
		want++
		next <- struct{}{}
	}
	if want != 5 {
		t.Errorf("Iter yielded %d values; want 5", want)
	}
}

// stopRecord is what a generator reports about how it was stopped. Its
// fields are written on the loop and read after the range loop ends.
type stopRecord struct {
	yieldFalse bool  // a yield returned false
	awaitErr   error // the error of the await it was in, if any
	cleanupTID int   // where its deferred cleanup ran; 0 if it did not
}

// stoppable returns a generator that records into rec how it is stopped.
// If await, it awaits a long sleep after each value; else it yields as fast
// as it can.
func stoppable(rec *stopRecord, await bool) aio.Seq[int] {
	return func(t *aio.Task, yield func(int) bool) error {
		defer func() { rec.cleanupTID = testkit.ThreadID() }()
		for i := 0; ; i++ {
			if !yield(i) {
				rec.yieldFalse = true
				return nil
			}
			if await {
				if err := aio.Sleep(t, time.Hour); err != nil {
					rec.awaitErr = err
					return err
				}
			}
		}
	}
}

func TestIterBreakStopsGenerator(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	tests := []struct {
		name    string
		await   bool
		breakAt int
	}{
		{"in yield", false, 10},
		{"in await", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec stopRecord
			n := 0
			for v, err := range threadrunner.Iter(testkit.Context(t), r, stoppable(&rec, tt.await), threadrunner.BatchSize(4), threadrunner.Buffer(1)) {
				if err != nil {
					t.Fatalf("Iter yielded %v; want values", err)
				}
				n++
				if v == tt.breakAt {
					break
				}
			}
			if n != tt.breakAt+1 {
				t.Errorf("range loop body ran %d times; want %d", n, tt.breakAt+1)
			}
			if rec.cleanupTID != tid {
				t.Errorf("generator cleanup ran on thread %d by the end of the range loop; want the loop's, %d", rec.cleanupTID, tid)
			}
			if tt.await && !errors.Is(rec.awaitErr, context.Canceled) {
				t.Errorf("generator's await returned %v; want %v", rec.awaitErr, context.Canceled)
			}
			if !tt.await && !rec.yieldFalse {
				t.Error("generator's yield never returned false")
			}
		})
	}
}

func TestIterContextEndStopsGenerator(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tid := loopTID(t, r)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rec stopRecord
	var vs []int
	var errs []error
	for v, err := range threadrunner.Iter(ctx, r, stoppable(&rec, true)) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vs = append(vs, v)
		cancel()
	}
	if len(vs) != 1 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("Iter yielded values %v and errors %v; want [0] and then %v", vs, errs, context.Canceled)
	}
	if rec.cleanupTID != tid {
		t.Errorf("generator cleanup ran on thread %d by the end of the range loop; want the loop's, %d", rec.cleanupTID, tid)
	}
	if !errors.Is(rec.awaitErr, context.Canceled) {
		t.Errorf("generator's await returned %v; want %v", rec.awaitErr, context.Canceled)
	}
}

func TestIterCloseStopsGenerator(t *testing.T) {
	testkit.Check(t)
	r := threadrunner.New()
	tid := loopTID(t, r)
	var rec stopRecord
	closed := make(chan error, 1)
	var vs []int
	var errs []error
	for v, err := range threadrunner.Iter(testkit.Context(t), r, stoppable(&rec, true)) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vs = append(vs, v)
		go func() { closed <- r.Close() }()
	}
	if err := <-closed; err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if len(vs) != 1 || len(errs) != 1 || !errors.Is(errs[0], aio.ErrClosed) {
		t.Fatalf("Iter yielded values %v and errors %v; want [0] and then %v", vs, errs, aio.ErrClosed)
	}
	if rec.cleanupTID != tid {
		t.Errorf("generator cleanup ran on thread %d; want the loop's, %d", rec.cleanupTID, tid)
	}
	if !errors.Is(rec.awaitErr, context.Canceled) {
		t.Errorf("generator's await returned %v; want %v", rec.awaitErr, context.Canceled)
	}
}

func TestIterGeneratorErrorComesLast(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := range 3 {
			if !yield(i + 1) {
				return nil
			}
		}
		return testkit.ErrGen
	}
	var got []string
	for v, err := range threadrunner.Iter(testkit.Context(t), r, gen) {
		got = append(got, fmt.Sprint(v, " ", err))
	}
	want := []string{"1 <nil>", "2 <nil>", "3 <nil>", "0 " + testkit.ErrGen.Error()}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Iter yielded %q; want %q", got, want)
	}
}

func TestIterGeneratorPanic(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	tests := []struct {
		name   string
		before int // values yielded before the panic
	}{
		{"at once", 0},
		{"after values", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gen := func(t *aio.Task, yield func(int) bool) error {
				for i := range tt.before {
					yield(i)
				}
				panic("gen boom")
			}
			n := 0
			p := testkit.RecoverPanic(func() {
				for _, err := range threadrunner.Iter(testkit.Context(t), r, gen) {
					if err != nil {
						t.Errorf("Iter yielded %v; want a panic", err)
					}
					n++
				}
			})
			if pe := panicError(t, p); pe.Value != "gen boom" {
				t.Errorf("PanicError.Value = %v; want %q", pe.Value, "gen boom")
			}
			if n != tt.before {
				t.Errorf("Iter yielded %d values before panicking; want %d", n, tt.before)
			}
			loopTID(t, r) // the loop serves on
		})
	}
}

// stopMessage is the panic a generator gets when it yields again after
// yield returned false.
const stopMessage = "aio: Seq called yield again after yield returned false"

// ignoringStop is a generator that never looks at what yield returns. It
// counts, on the loop, how often it started and how often its deferred
// cleanup ran.
type ignoringStop struct {
	started, cleaned int
}

func (g *ignoringStop) seq(t *aio.Task, yield func(int) bool) error {
	g.started++
	defer func() { g.cleaned++ }()
	for i := 0; ; i++ {
		yield(i) // the bug under test: the result is ignored
		if i%100 == 99 {
			_ = aio.Sleep(t, 0) // and so is the cancellation
		}
	}
}

// checkYieldAfterStop ranges over a generator that ignores yield returning
// false, breaks off after breakAfter values, and checks that the range loop
// panics with the library's *aio.PanicError about it, that the values came in
// order, and that the generator's cleanup ran once.
func checkYieldAfterStop(t *testing.T, r *threadrunner.Runner, breakAfter int, opts ...threadrunner.IterOption) {
	t.Helper()
	g := &ignoringStop{}
	var got []int
	p := testkit.RecoverPanic(func() {
		for v, err := range threadrunner.Iter(testkit.Context(t), r, g.seq, opts...) {
			if err != nil {
				t.Errorf("Iter yielded error %v; want values, then a panic", err)
				return
			}
			got = append(got, v)
			if len(got) == breakAfter {
				break
			}
		}
	})
	pe := panicError(t, p)
	if pe.Value != stopMessage {
		t.Errorf("range loop panicked with %#v; want %#v", pe.Value, stopMessage)
	}
	if !strings.Contains(string(pe.Stack), "ignoringStop") {
		t.Errorf("the panic's stack does not name the generator:\n%s", pe.Stack)
	}
	if want := slices.Collect(countTo(breakAfter)); !slices.Equal(got, want) {
		t.Errorf("values before the break = %v; want %v", got, want)
	}
	// The range loop ended after the generator's task did.
	if g.started != 1 || g.cleaned != 1 {
		t.Errorf("generator started %d times, cleaned up %d times; want 1 and 1", g.started, g.cleaned)
	}
}

// countTo yields 0, 1, ..., n-1.
func countTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func TestIterGeneratorThatIgnoresStopPanics(t *testing.T) {
	tests := []struct {
		name       string
		opts       []aio.Option
		iterOpts   []threadrunner.IterOption
		breakAfter int
	}{
		{"pinned, batch 1, buffer 1, break at once", nil, []threadrunner.IterOption{threadrunner.BatchSize(1), threadrunner.Buffer(1)}, 1},
		{"pinned, batch 8, break after 5", nil, []threadrunner.IterOption{threadrunner.BatchSize(8)}, 5},
		{"unpinned, batch 1, buffer 1, break at once", []aio.Option{aio.Unpinned()}, []threadrunner.IterOption{threadrunner.BatchSize(1), threadrunner.Buffer(1)}, 1},
		{"unpinned, batch 8, break after 5", []aio.Option{aio.Unpinned()}, []threadrunner.IterOption{threadrunner.BatchSize(8)}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			r := newRunner(t, tt.opts...)
			checkYieldAfterStop(t, r, tt.breakAfter, tt.iterOpts...)
			servesOn(t, r)
		})
	}
}

func TestIterRangingTwiceRunsGeneratorTwice(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	starts := 0 // loop-owned
	gen := func(t *aio.Task, yield func(int) bool) error {
		starts++
		return count(10)(t, yield)
	}
	seq := threadrunner.Iter(testkit.Context(t), r, gen)
	for round := range 2 {
		vs, errs := collect(t, seq)
		if len(vs) != 10 || len(errs) != 0 {
			t.Errorf("range #%d yielded %v, errors %v; want 0..9 and no error", round+1, vs, errs)
		}
	}
	loopTID(t, r)
	if starts != 2 {
		t.Errorf("generator started %d times; want 2", starts)
	}
}

func TestIterContextValuesReachGenerator(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	ctx := context.WithValue(testkit.Context(t), testkit.CtxKey{}, "v")
	gen := func(t *aio.Task, yield func(any) bool) error {
		yield(t.Context().Value(testkit.CtxKey{}))
		return nil
	}
	vs, errs := collect(t, threadrunner.Iter(ctx, r, gen))
	if len(vs) != 1 || vs[0] != "v" || len(errs) != 0 {
		t.Errorf("Iter yielded %v, errors %v; want [v]", vs, errs)
	}
}

// iterCalls is Iter, made with the ctx it is given, for the bad-input
// harness (see runBadCases).
func iterCalls(want error) []badCase {
	return []badCase{{name: "Iter", want: want, call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
		return iterErr(threadrunner.Iter(ctx, r, markSeq(ran)))
	}}}
}

// iterErr ranges over seq and returns the single error it yields, or an
// error saying it yielded a value or more than one error.
func iterErr(seq iter.Seq2[int, error]) error {
	var errs []error
	for v, err := range seq {
		if err == nil || v != 0 {
			return fmt.Errorf("yielded (%d, %v); want a single (0, error)", v, err)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 {
		return fmt.Errorf("yielded %d errors; want 1", len(errs))
	}
	return errs[0]
}

// markSeq returns a generator that sets ran.
func markSeq(ran *atomic.Bool) aio.Seq[int] {
	return func(t *aio.Task, yield func(int) bool) error {
		ran.Store(true)
		yield(1)
		return nil
	}
}

func TestIterBadInput(t *testing.T) {
	t.Run("nil", func(t *testing.T) {
		tests := []badCase{
			{name: "Iter nil seq", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return iterErr(threadrunner.Iter[int](ctx, r, nil))
			}},
			{name: "Collect nil seq", call: func(ctx context.Context, r *threadrunner.Runner, ran *atomic.Bool) error {
				return inTask(ctx, r, func(t *aio.Task) error {
					_, err := aio.Collect[int](t, nil)
					return err
				})
			}},
		}
		runInvalidCases(t, tests)
	})
	runEndedContextCases(t, iterCalls)
}

// TestIterBreakCleanupAwaits checks that breaking out of Iter is not a
// cancellation: the generator's deferred cleanup awaits (Sleep, ToThread)
// with its context live, and has finished when the range loop ends.
func TestIterBreakCleanupAwaits(t *testing.T) {
	testkit.Check(t)
	r := newRunner(t)
	var cleanup []error // written on the loop, read after the range loop
	gen := func(t *aio.Task, yield func(int) bool) error {
		defer func() {
			cleanup = append(cleanup, t.Context().Err(), aio.Sleep(t, time.Millisecond))
			_, err := aio.ToThread(t, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
			cleanup = append(cleanup, err)
		}()
		for i := 0; ; i++ {
			if err := aio.Sleep(t, 0); err != nil {
				return err
			}
			if !yield(i) {
				return nil
			}
		}
	}
	for v, err := range threadrunner.Iter(testkit.Context(t), r, gen) {
		if err != nil || v == 5 {
			break
		}
	}
	if len(cleanup) != 3 {
		t.Fatalf("cleanup had run %d of its 3 steps when the range loop ended; want all", len(cleanup))
	}
	for i, err := range cleanup {
		if err != nil {
			t.Errorf("cleanup step %d = %v; want nil: breaking is not a cancellation", i, err)
		}
	}
}
