package aio_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// drain reads s to its end and returns the values, the batches' sizes and
// the final error.
func drain[T any](t *testing.T, s *aio.Stream[T]) (vs []T, sizes []int, err error) {
	t.Helper()
	ctx := testkit.Context(t)
	for {
		b, err := s.Next(ctx)
		if err != nil {
			return vs, sizes, err
		}
		vs = append(vs, b...)
		sizes = append(sizes, len(b))
	}
}

// # Batches and back-pressure

func TestStreamBatches(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// A generator that never awaits hands over full batches only (and the
	// rest at its end): one hand-off per batch, not per value.
	const n, batch = 1000, 64
	s := aio.OpenStream(testkit.Context(t), l, count(n, 0, nil), aio.BatchSize(batch), aio.Buffer(2))
	defer s.Close()
	vs, sizes, err := drain(t, s)
	if err != io.EOF {
		t.Errorf("Next() at the end = %v; want io.EOF", err)
	}
	if !slices.Equal(vs, ints(n)) {
		t.Errorf("values = %v; want 0..%d in order", vs, n-1)
	}
	want := make([]int, n/batch)
	for i := range want {
		want[i] = batch
	}
	want = append(want, n%batch)
	if !slices.Equal(sizes, want) {
		t.Errorf("batch sizes = %v; want %v", sizes, want)
	}
	if _, err := s.Next(testkit.Context(t)); err != io.EOF {
		t.Errorf("Next() after the end = %v; want io.EOF again", err)
	}
}

func TestStreamDefaults(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	s := aio.OpenStream(testkit.Context(t), l, count(1000, 0, nil), aio.Buffer(-1))
	defer s.Close()
	vs, sizes, err := drain(t, s)
	if err != io.EOF || !slices.Equal(vs, ints(1000)) {
		t.Errorf("drained %d values, then %v; want 1000, then io.EOF", len(vs), err)
	}
	if want := []int{256, 256, 256, 232}; !slices.Equal(sizes, want) {
		t.Errorf("batch sizes = %v; want %v (batch 256 by default)", sizes, want)
	}
}

// TestStreamHugeBatchSize checks that a batch size far beyond what the
// generator yields costs memory only for what it yields: the batches grow
// as values come, so BatchSize(1<<40) neither allocates up front nor kills
// the process. It runs in a subprocess, since the failure kills it.
func TestStreamHugeBatchSize(t *testing.T) {
	if _, child := testkit.PassInSubprocess(t); !child {
		return
	}
	testkit.Check(t)
	l := startLoop(t)
	s := aio.OpenStream(testkit.Context(t), l, count(1000, 100, nil), aio.BatchSize(1<<40))
	defer s.Close()
	vs, _, err := drain(t, s)
	if !slices.Equal(vs, ints(1000)) || err != io.EOF {
		t.Errorf("drain() = %d values, %v; want 0..999, io.EOF", len(vs), err)
	}
}

func TestStreamFlushesWhenGeneratorAwaits(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// The generator yields a few values, then waits for the consumer to
	// have seen them: it deadlocks unless a partial batch is handed over
	// when the generator suspends.
	seen, ack := aio.NewFuture[int](l)
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := range 3 {
			if !yield(i) {
				return nil
			}
		}
		if _, err := aio.Await(t, seen); err != nil {
			return err
		}
		yield(3)
		return nil
	}
	s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(100), aio.Buffer(4))
	defer s.Close()
	b, err := s.Next(testkit.Context(t))
	if err != nil || !slices.Equal(b, []int{0, 1, 2}) {
		t.Fatalf("Next() = %v, %v; want the partial batch [0 1 2]", b, err)
	}
	ack(0, nil)
	b, err = s.Next(testkit.Context(t))
	if err != nil || !slices.Equal(b, []int{3}) {
		t.Errorf("Next() = %v, %v; want [3]", b, err)
	}
	if _, err := s.Next(testkit.Context(t)); err != io.EOF {
		t.Errorf("Next() at the end = %v; want io.EOF", err)
	}
}

// TestStreamFlushesOnSleepZero checks that a generator that yields, then
// polls with Sleep(t, 0) for something only the consumer can do, hands its
// partial batch over at the first poll rather than spinning forever.
func TestStreamFlushesOnSleepZero(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	var consumed atomic.Bool
	gen := func(t *aio.Task, yield func(int) bool) error {
		if !yield(1) {
			return nil
		}
		for !consumed.Load() {
			if err := aio.Sleep(t, 0); err != nil {
				return err
			}
		}
		yield(2)
		return nil
	}
	s := aio.OpenStream(testkit.Context(t), l, gen)
	defer s.Close()
	testkit.Do(t, "the first batch", func() {
		if b, err := s.Next(testkit.Context(t)); err != nil || !slices.Equal(b, []int{1}) {
			t.Errorf("Next() = %v, %v; want [1]", b, err)
		}
	})
	consumed.Store(true)
	if vs, _, err := drain(t, s); !slices.Equal(vs, []int{2}) || err != io.EOF {
		t.Errorf("the rest = %v, %v; want [2], io.EOF", vs, err)
	}
}

func TestStreamBackPressure(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	const batch, buffer = 4, 2
	var produced atomic.Int64
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := 0; ; i++ {
			produced.Add(1)
			if !yield(i) {
				return nil
			}
		}
	}
	s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(batch), aio.Buffer(buffer))
	defer s.Close()

	// Unread, the generator stops once the buffer and its own batch are
	// full, and stays stopped while the loop does other work.
	full := int64(batch * (buffer + 1))
	testkit.WaitFor(t, "the generator to fill the buffer", func() bool { return produced.Load() >= full })
	for range 10 {
		call(t, l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) })
	}
	if got := produced.Load(); got != full {
		t.Fatalf("generator produced %d values with nothing read; want it held at %d", got, full)
	}
	// Reading a batch lets it produce one more.
	b, err := s.Next(testkit.Context(t))
	if err != nil || !slices.Equal(b, ints(batch)) {
		t.Fatalf("Next() = %v, %v; want %v", b, err, ints(batch))
	}
	testkit.WaitFor(t, "the generator to refill", func() bool { return produced.Load() >= full+batch })
	for range 10 {
		call(t, l, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) })
	}
	if got := produced.Load(); got != full+batch {
		t.Errorf("after one batch read, generator produced %d values; want %d", got, full+batch)
	}
}

// # How a stream ends

// TestStreamStopIsNotCancellation checks that a consumer that stops the
// stream (threadrunner.Iter's break) does not cancel the generator: its yield
// returns false, or the await it is busy in returns ErrStopped once (a
// ToThread function's context ending with that cause); its context stays
// live, and its deferred cleanup runs on the loop's thread and awaits
// (Sleep, ToThread, a child task) before Close returns; Close again returns
// nil.
func TestStreamStopIsNotCancellation(t *testing.T) {
	tests := []struct {
		name    string
		await   func(t *aio.Task) error // what the generator is busy in after its first value
		wantErr error                   // what that await returns when the stream stops; nil: it is in yield
	}{
		{"in yield", nil, nil},
		{"in Sleep", func(t *aio.Task) error { return aio.Sleep(t, time.Hour) }, aio.ErrStopped},
		{"in Recv", func(t *aio.Task) error {
			_, _, err := aio.Recv(t, make(chan int))
			return err
		}, aio.ErrStopped},
		{"in ToThread", func(t *aio.Task) error {
			_, err := aio.ToThread(t, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, context.Cause(ctx)
			})
			return err
		}, aio.ErrStopped},
		{"in Await of a child", func(t *aio.Task) error {
			_, err := aio.Await(t, aio.Go(t, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) }))
			return err
		}, aio.ErrStopped},
		// Waits that end when their children do, the interrupt having
		// cancelled them: it must not stay behind for the cleanup.
		{"in Timeout", func(t *aio.Task) error {
			_, err := aio.Timeout(t, time.Hour, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
			return err
		}, aio.ErrStopped},
		{"in Group.Wait", func(t *aio.Task) error {
			g := aio.NewGroup(t)
			g.Go(func(t *aio.Task) error { return aio.Sleep(t, time.Hour) })
			return g.Wait()
		}, aio.ErrStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			l := startLoop(t)
			type record struct {
				awaitErr   error
				yieldFalse bool
				ctxErr     error // the context's error during cleanup
				cleanup    []error
				tid        int // the thread the cleanup ran on
			}
			rec := make(chan record, 1)
			gen := func(t *aio.Task, yield func(int) bool) error {
				var r record
				defer func() {
					r.tid = testkit.ThreadID()
					r.ctxErr = t.Context().Err()
					r.cleanup = append(r.cleanup, aio.Sleep(t, time.Millisecond))
					_, err := aio.ToThread(t, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
					r.cleanup = append(r.cleanup, err)
					_, err = aio.Await(t, aio.Go(t, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) }))
					r.cleanup = append(r.cleanup, err)
					rec <- r
				}()
				if !yield(1) {
					r.yieldFalse = true
					return nil
				}
				if tt.await == nil {
					for i := 2; yield(i); i++ {
					}
					r.yieldFalse = true
					return nil
				}
				r.awaitErr = tt.await(t)
				if yield(2) {
					return errors.New("yield went on after the stream stopped")
				}
				r.yieldFalse = true
				return r.awaitErr
			}
			s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(1), aio.Buffer(1))
			if _, err := s.Next(testkit.Context(t)); err != nil {
				t.Fatalf("Next() = %v", err)
			}
			testkit.Do(t, "Close", func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close() = %v; want nil", err)
				}
			})
			var r record
			select {
			case r = <-rec:
			default:
				t.Fatal("Close returned before the generator's cleanup ran")
			}
			if tt.wantErr != nil && !errors.Is(r.awaitErr, tt.wantErr) {
				t.Errorf("the await in progress returned %v; want %v", r.awaitErr, tt.wantErr)
			}
			if !errors.Is(r.awaitErr, context.Canceled) && tt.wantErr != nil {
				t.Errorf("the await's error %v is not context.Canceled", r.awaitErr)
			}
			if r.tid != l.ThreadID() {
				t.Errorf("the generator's cleanup ran on thread %d; want the loop's, %d", r.tid, l.ThreadID())
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close() = %v; want nil", err)
			}
			if !r.yieldFalse {
				t.Errorf("yield never returned false")
			}
			if r.ctxErr != nil {
				t.Errorf("the generator's context in cleanup: %v; want it live", r.ctxErr)
			}
			for i, err := range r.cleanup {
				if err != nil {
					t.Errorf("cleanup await %d = %v; want nil", i, err)
				}
			}
		})
	}
}

func TestStreamCtxEndsGenerator(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// OpenStream's ctx is the generator task's: ending it cancels the
	// generator, and the stream ends with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	var sleepErr atomic.Pointer[error]
	gen := func(t *aio.Task, yield func(int) bool) error {
		yield(1)
		err := aio.Sleep(t, time.Hour)
		sleepErr.Store(&err)
		return err
	}
	s := aio.OpenStream(ctx, l, gen, aio.BatchSize(10), aio.Buffer(1))
	defer s.Close()
	if b, err := s.Next(testkit.Context(t)); err != nil || !slices.Equal(b, []int{1}) {
		t.Fatalf("Next() = %v, %v; want [1]", b, err)
	}
	cancel()
	if _, err := s.Next(testkit.Context(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Next() after the stream's ctx ended = %v; want context.Canceled", err)
	}
	if p := sleepErr.Load(); p == nil || !errors.Is(*p, context.Canceled) {
		t.Errorf("generator's Sleep() = %v; want context.Canceled", p)
	}
}

func TestStreamNextCtxBoundsOnlyTheWait(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	more, send := aio.NewFuture[int](l)
	gen := func(t *aio.Task, yield func(int) bool) error {
		v, err := aio.Await(t, more)
		if err != nil {
			return err
		}
		yield(v)
		return nil
	}
	s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(10), aio.Buffer(1))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next(ended ctx) = %v; want context.Canceled", err)
	}
	send(8, nil)
	if b, err := s.Next(testkit.Context(t)); err != nil || !slices.Equal(b, []int{8}) {
		t.Errorf("Next() = %v, %v; want [8]: the generator went on", b, err)
	}
}

func TestStreamErrorLast(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	s := aio.OpenStream(testkit.Context(t), l, count(10, 3, testkit.ErrGen), aio.BatchSize(4), aio.Buffer(1))
	defer s.Close()
	vs, _, err := drain(t, s)
	if !slices.Equal(vs, ints(10)) || err != testkit.ErrGen {
		t.Errorf("stream = %v, then %v; want 0..9, then %v", vs, err, testkit.ErrGen)
	}
	if _, err := s.Next(testkit.Context(t)); err != testkit.ErrGen {
		t.Errorf("Next() after the error = %v; want %v again", err, testkit.ErrGen)
	}
}

func TestStreamPanic(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	var panicking chan struct{}
	gen := func(t *aio.Task, yield func(int) bool) error {
		if !yield(1) || !yield(2) {
			return nil
		}
		close(panicking)
		panic("gen boom")
	}

	// Next hands over the values, then re-panics; Close does not again.
	panicking = make(chan struct{})
	s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(1), aio.Buffer(4))
	var vs []int
	p := testkit.RecoverPanic(func() {
		for {
			b, err := s.Next(testkit.Context(t))
			if err != nil {
				t.Fatalf("Next() = %v; want values, then a panic", err)
			}
			vs = append(vs, b...)
		}
	})
	if pe := panicError(t, p); pe.Value != "gen boom" {
		t.Errorf("Next() panicked with %v; want %q", pe.Value, "gen boom")
	}
	if !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("values before the panic = %v; want [1 2]", vs)
	}
	if p := testkit.RecoverPanic(func() { s.Close() }); p != nil {
		t.Errorf("Close() after Next delivered the panic panicked with %v; want nothing", p)
	}

	// Closed without reading to the end, Close re-panics.
	panicking = make(chan struct{})
	s = aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(1), aio.Buffer(4))
	<-panicking
	if pe := panicError(t, testkit.RecoverPanic(func() { s.Close() })); pe.Value != "gen boom" {
		t.Errorf("Close() panicked with %v; want %q", pe.Value, "gen boom")
	}
	checkLoopServes(t, l)
}

func TestStreamGeneratorYieldsAfterStop(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)

	// A generator that ignores yield's false and yields again is a bug:
	// it panics, and Close reports it.
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := 0; ; i++ {
			yield(i)
		}
	}
	s := aio.OpenStream(testkit.Context(t), l, gen, aio.BatchSize(1), aio.Buffer(1))
	if _, err := s.Next(testkit.Context(t)); err != nil {
		t.Fatalf("Next() = %v; want a batch", err)
	}
	p := testkit.RecoverPanic(func() { s.Close() })
	if pe := panicError(t, p); pe.Value != "aio: Seq called yield again after yield returned false" {
		t.Errorf("Close() panicked with %v; want the misuse panic", pe.Value)
	}
}

func TestStreamOfClosedLoop(t *testing.T) {
	testkit.Check(t)
	l := aio.Start()
	s := aio.OpenStream(testkit.Context(t), l, count(3, 0, nil))
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}

	// Closing the loop stops the generator: the stream ends, with
	// ErrClosed unless it had already finished.
	vs, _, err := drain(t, s)
	if err != io.EOF && !errors.Is(err, aio.ErrClosed) {
		t.Errorf("stream of a loop closed meanwhile = %v, then %v; want io.EOF or ErrClosed", vs, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
}

// TestStreamBadInput checks that OpenStream refuses a nil loop or Seq (and
// that such a stream still closes cleanly), and that Next refuses a nil
// context.
func TestStreamBadInput(t *testing.T) {
	testkit.Check(t)
	l := startLoop(t)
	ctx := testkit.Context(t)
	var nilCtx context.Context
	runInvalidCases(t, l, []invalidCase{
		{name: "OpenStream nil loop", call: func() error {
			_, err := aio.OpenStream(ctx, nil, aio.SliceSeq([]int{1})).Next(ctx)
			return err
		}, want: "nil *Loop"},
		{name: "OpenStream nil Seq", call: func() error {
			_, err := aio.OpenStream[int](ctx, l, nil).Next(ctx)
			return err
		}, want: "nil Seq"},
		{name: "Stream.Next nil context", call: func() error {
			s := aio.OpenStream(ctx, l, aio.SliceSeq([]int{1}))
			defer s.Close()
			_, err := s.Next(nilCtx)
			return err
		}, want: "nil context"},
	})
	if err := aio.OpenStream[int](ctx, l, nil).Close(); err != nil {
		t.Errorf("Close() of a stream of a nil Seq = %v; want nil", err)
	}
}
