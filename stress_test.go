package threadrunner_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

var relStressDuration = flag.Duration("stress.duration", 0,
	"how long each stress test makes calls (default 1.5s, 300ms with -short)")

// relStressTime returns how long a stress run makes calls.
func relStressTime() time.Duration {
	switch {
	case *relStressDuration > 0:
		return *relStressDuration
	case testing.Short():
		return 300 * time.Millisecond
	}
	return 1500 * time.Millisecond
}

// relKind is how a call ended. Every call must end in exactly one of them.
type relKind int

const (
	relResult   relKind = iota // its own value (or nil error)
	relOwnError                // its own error (errors.Is)
	relOwnPanic                // its own panic, as the library delivers it
	relClosed                  // aio.ErrClosed (errors.Is)
	relCtxError                // its context's error (errors.Is): deadline or Cancel
	relKinds
)

func (k relKind) String() string {
	return [...]string{"result", "own error", "own panic", "ErrClosed", "ctx error"}[k]
}

// relOpError is the error one call's task or body returns.
type relOpError struct{ id int64 }

func (e *relOpError) Error() string { return fmt.Sprintf("call %d failed", e.id) }

// relPanicValue is the value one call's task or body panics with.
type relPanicValue struct{ id int64 }

// relStress is one stress run: a runner, the calls made on it, and what they
// observed.
type relStress struct {
	r      *threadrunner.Runner
	ledger *relLedger // loop-owned
	log    *relRecorder

	ids     atomic.Int64
	closing atomic.Bool // set just before the first Close call
	closed  atomic.Bool // set once Close has returned

	mu        sync.Mutex // guards everything below
	counts    map[string]*[relKinds]int
	failures  []string
	resources []*relStressRes
	gens      []*relGen
}

// relStressRes is a resource of the run and what the call that used it saw.
type relStressRes struct {
	res       *relResource
	kept      bool
	byClose   bool // the call knows Close exited it (or will, when abandoned)
	refusedOK bool // Open or Keep failed: it may have been entered and exited at once
}

// relGen counts, on the loop, the runs of one generator.
type relGen struct {
	started, cleaned int
}

// relCall is one call in flight, for the watchdog's report.
type relCall struct {
	op    string
	id    int64
	began time.Time
}

// relStressOp makes one call and classifies how it ended; it returns an
// error if the ending is not one the call allows.
type relStressOp struct {
	name string
	call func(s *relStress, rng *rand.Rand, id int64) (relKind, error)
}

func TestStress(t *testing.T) {
	tests := []struct {
		name string
		opts []aio.Option
	}{
		{"pinned", nil},
		{"unpinned", []aio.Option{aio.Unpinned()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			relStressRun(t, tt.opts)
		})
	}
}

func relStressRun(t *testing.T, opts []aio.Option) {
	log := &relRecorder{}
	s := &relStress{
		r:      threadrunner.New(append(opts, aio.Logger(slog.New(log)), aio.Workers(2))...),
		ledger: &relLedger{},
		log:    log,
		counts: map[string]*[relKinds]int{},
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	workers := max(48, 12*runtime.GOMAXPROCS(0))
	d := relStressTime()
	rng := rand.New(rand.NewPCG(seed, 0))
	closeAfter := d * time.Duration(40+rng.IntN(31)) / 100

	start := time.Now()
	end := start.Add(d)
	calls := make([]atomic.Pointer[relCall], workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
			// Once Close has begun, a few more calls each: some land while
			// it runs, some after it returned.
			afterClose := 0
			for time.Now().Before(end) && afterClose < 10 {
				if s.closing.Load() {
					afterClose++
				}
				op := relStressOps[rng.IntN(len(relStressOps))]
				id := s.ids.Add(1)
				calls[w].Store(&relCall{op: op.name, id: id, began: time.Now()})
				s.do(op, rng, id)
				calls[w].Store(nil)
			}
		})
	}
	closeErrs := make(chan error, 2)
	for i := range 2 { // two Close calls race each other and the calls
		wg.Go(func() {
			time.Sleep(closeAfter + time.Duration(i)*time.Millisecond)
			s.closing.Store(true)
			closeErrs <- s.r.Close()
			s.closed.Store(true)
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d + testTimeout):
		var stuck []string
		for i := range calls {
			if c := calls[i].Load(); c != nil {
				stuck = append(stuck, fmt.Sprintf("worker %d: %s (call %d) for %v", i, c.op, c.id, time.Since(c.began)))
			}
		}
		t.Fatalf("calls hung (watchdog %v):\n%s\n\ngoroutines:\n%s", testTimeout, strings.Join(stuck, "\n"), relDump())
	}
	for range 2 {
		if err := <-closeErrs; err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	}
	select {
	case <-s.r.Loop().Done():
	default:
		t.Error("the loop still runs after Close returned")
	}
	s.check(t)
}

// do makes one call and records how it ended.
func (s *relStress) do(op relStressOp, rng *rand.Rand, id int64) {
	wasClosed := s.closed.Load()
	var (
		kind relKind
		err  error
	)
	if p := relCatch(func() { kind, err = op.call(s, rng, id) }); p != nil {
		err = fmt.Errorf("unexpected panic: %v", p)
		if pe, ok := p.(*aio.PanicError); ok {
			err = fmt.Errorf("unexpected panic: %v\n%s", pe.Value, pe.Stack)
		}
	}
	if err == nil && wasClosed && kind != relClosed {
		err = fmt.Errorf("ended with %v after Close had returned; want ErrClosed", kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.failures = append(s.failures, fmt.Sprintf("%s (call %d): %v", op.name, id, err))
		return
	}
	c := s.counts[op.name]
	if c == nil {
		c = new([relKinds]int)
		s.counts[op.name] = c
	}
	c[kind]++
}

// classify says how a call that returned err ended: ErrClosed, ctx's error
// (if ctxErr is not nil), or own. err must hold nothing but those and the
// context.Canceled of a task cancelled by Close.
func (s *relStress) classify(err, own, ctxErr error) (relKind, error) {
	if err == nil {
		return relResult, nil
	}
	allowed := []error{aio.ErrClosed, context.Canceled}
	if own != nil {
		allowed = append(allowed, own)
	}
	if ctxErr != nil {
		allowed = append(allowed, ctxErr)
	}
	if leaf := relStrayLeaf(err, allowed...); leaf != nil {
		return 0, fmt.Errorf("error %v holds %v, which is none of %v", err, leaf, allowed)
	}
	switch {
	case errors.Is(err, aio.ErrClosed):
		if !s.closing.Load() {
			return 0, fmt.Errorf("error %v is ErrClosed before Close was called", err)
		}
		return relClosed, nil
	case ctxErr != nil && errors.Is(err, ctxErr):
		return relCtxError, nil
	case own != nil && errors.Is(err, own):
		return relOwnError, nil
	}
	return 0, fmt.Errorf("error %v is not the call's own, ctx's or ErrClosed", err)
}

// value checks a call that returns a value: v must be want if err is nil,
// and want or zero otherwise (a task cancelled after it computed v).
func (s *relStress) value(v, want int64, err, ctxErr error) (relKind, error) {
	if err == nil && v != want || err != nil && v != want && v != 0 {
		return 0, fmt.Errorf("returned %d, %v; want %d", v, err, want)
	}
	return s.classify(err, nil, ctxErr)
}

// ownPanic checks what a call that must panic with want recovered: p, or
// else the error it returned, which may only be ErrClosed.
func (s *relStress) ownPanic(p any, err error, want *relPanicValue) (relKind, error) {
	if p == nil {
		if err == nil {
			return 0, errors.New("returned without error and without panicking; want its panic")
		}
		k, cerr := s.classify(err, nil, nil)
		if cerr == nil && k != relClosed {
			return 0, fmt.Errorf("returned %v instead of panicking", err)
		}
		return k, cerr
	}
	if pe, ok := p.(*aio.PanicError); ok {
		p = pe.Value
	}
	if p != want {
		return 0, fmt.Errorf("panicked with %v; want its own panic %v", p, want)
	}
	return relOwnPanic, nil
}

func (s *relStress) newResource(id int64, kept bool) *relStressRes {
	sr := &relStressRes{res: &relResource{id: int(id), ledger: s.ledger}, kept: kept}
	s.mu.Lock()
	s.resources = append(s.resources, sr)
	s.mu.Unlock()
	return sr
}

func (s *relStress) newGen() *relGen {
	g := &relGen{}
	s.mu.Lock()
	s.gens = append(s.gens, g)
	s.mu.Unlock()
	return g
}

// relStressOps are the calls the stress workers pick from at random.
var relStressOps = []relStressOp{
	{"Run/value", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		mode := rng.IntN(3)
		v, err := threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (int64, error) {
			switch mode {
			case 1:
				return id, aio.Sleep(t, 0)
			case 2:
				return aio.Await(t, aio.Go(t, func(*aio.Task) (int64, error) { return id, nil }))
			}
			return id, nil
		})
		return s.value(v, id, err, nil)
	}},
	{"Run/error", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		own := &relOpError{id}
		nap := rng.IntN(2) == 0
		v, err := threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (int64, error) {
			if nap {
				_ = aio.Sleep(t, 0)
			}
			return 0, own
		})
		if err == nil || v != 0 {
			return 0, fmt.Errorf("returned %d, %v; want 0 and its error", v, err)
		}
		return s.classify(err, own, nil)
	}},
	{"Run/panic", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		own := &relPanicValue{id}
		nap := rng.IntN(2) == 0
		var err error
		p := relCatch(func() {
			_, err = threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (int, error) {
				if nap {
					_ = aio.Sleep(t, 0)
				}
				panic(own)
			})
		})
		return s.ownPanic(p, err, own)
	}},
	{"Run/deadline", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(2000))*time.Microsecond)
		defer cancel()
		nap := time.Duration(rng.IntN(3000)) * time.Microsecond
		v, err := threadrunner.Run(ctx, s.r, func(t *aio.Task) (int64, error) {
			return id, aio.Sleep(t, nap)
		})
		return s.value(v, id, err, context.DeadlineExceeded)
	}},
	{"Run/ToThread", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		own := &relPanicValue{id}
		panics := rng.IntN(3) == 0
		var (
			v   int64
			err error
		)
		p := relCatch(func() {
			v, err = threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (int64, error) {
				return aio.ToThread(t, func(context.Context) (int64, error) {
					if panics {
						panic(own)
					}
					return 2 * id, nil
				})
			})
		})
		if panics {
			return s.ownPanic(p, err, own)
		}
		if p != nil {
			return 0, fmt.Errorf("panicked with %v", p)
		}
		return s.value(v, 2*id, err, nil)
	}},
	{"Run/Group", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		own := &relOpError{id}
		_, err := threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (int, error) {
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
		if err == nil {
			return 0, errors.New("returned nil; want the group's error")
		}
		return s.classify(err, own, nil)
	}},
	{"Submit/value", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		f := threadrunner.Submit(context.Background(), s.r, func(t *aio.Task) (int64, error) { return id, nil })
		v, err := relWait(f)
		if err != nil && errors.Is(err, errRelWatchdog) {
			return 0, err
		}
		return s.value(v, id, err, nil)
	}},
	{"Submit+Cancel", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		forever := rng.IntN(2) == 0
		f := threadrunner.Submit(context.Background(), s.r, func(t *aio.Task) (int64, error) {
			if forever {
				return 0, aio.Sleep(t, time.Hour)
			}
			return id, nil
		})
		if rng.IntN(2) == 0 {
			runtime.Gosched()
		}
		f.Cancel()
		v, err := relWait(f)
		if err != nil && errors.Is(err, errRelWatchdog) {
			return 0, err
		}
		if forever {
			if err == nil {
				return 0, fmt.Errorf("returned %d, nil; want context.Canceled", v)
			}
			return s.classify(err, nil, context.Canceled)
		}
		return s.value(v, id, err, context.Canceled)
	}},
	{"Iter/break", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		g := s.newGen()
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
		k := 1 + rng.IntN(300)
		batch := []int{1, 3, 16, 256}[rng.IntN(4)]
		n := 0
		for v, err := range threadrunner.Iter(context.Background(), s.r, seq, threadrunner.BatchSize(batch)) {
			if err != nil {
				if v != 0 {
					return 0, fmt.Errorf("yielded (%d, %v); want a zero value with the error", v, err)
				}
				kind, cerr := s.classify(err, nil, nil)
				if cerr == nil && kind != relClosed {
					return 0, fmt.Errorf("yielded error %v after %d values", err, n)
				}
				return kind, cerr
			}
			if v != n {
				return 0, fmt.Errorf("value %d is %d; want %d", n, v, n)
			}
			n++
			if n == k {
				break
			}
		}
		if n != k {
			return 0, fmt.Errorf("the range loop ended after %d values and no error; want %d", n, k)
		}
		return relResult, nil
	}},
	{"Iter/error", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		own := &relOpError{id}
		total := rng.IntN(50)
		return relRangeAll(s, total, func(t *aio.Task) error { return own }, own)
	}},
	{"Iter/panic", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		own := &relPanicValue{id}
		total := rng.IntN(50)
		var (
			kind relKind
			err  error
		)
		p := relCatch(func() {
			kind, err = relRangeAll(s, total, func(t *aio.Task) error { panic(own) }, nil)
		})
		if p == nil {
			if err == nil && kind != relClosed {
				return 0, fmt.Errorf("ended with %v; want its panic or ErrClosed", kind)
			}
			return kind, err
		}
		return s.ownPanic(p, nil, own)
	}},
	{"With", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		sr := s.newResource(id, false)
		mode := rng.IntN(3) // 0: body returns nil, 1: its error, 2: panics
		own, ownPanic := &relOpError{id}, &relPanicValue{id}
		bodyRuns := 0
		var err error
		p := relCatch(func() {
			err = threadrunner.With(context.Background(), s.r, sr.res, func(v int) error {
				bodyRuns++
				if v != int(id) {
					return fmt.Errorf("body got %d; want %d", v, id)
				}
				switch mode {
				case 1:
					return own
				case 2:
					panic(ownPanic)
				}
				return nil
			})
		})
		if bodyRuns > 1 {
			return 0, fmt.Errorf("body ran %d times", bodyRuns)
		}
		if p != nil {
			if mode != 2 || bodyRuns != 1 || p != any(ownPanic) {
				return 0, fmt.Errorf("panicked with %v (mode %d)", p, mode)
			}
			return relOwnPanic, nil
		}
		if bodyRuns == 0 {
			sr.refusedOK = true
		} else if errors.Is(err, aio.ErrClosed) {
			sr.byClose = true
		}
		switch {
		case mode == 2 && bodyRuns == 1:
			return 0, fmt.Errorf("returned %v after the body panicked; want the panic to go on", err)
		case mode == 1 && bodyRuns == 1 && !errors.Is(err, own):
			return 0, fmt.Errorf("returned %v; want the body's error", err)
		case mode == 0 && bodyRuns == 1 && err != nil && !errors.Is(err, aio.ErrClosed):
			return 0, fmt.Errorf("returned %v; want nil or ErrClosed", err)
		case bodyRuns == 0 && err == nil:
			return 0, errors.New("returned nil without running the body")
		}
		if mode == 1 && bodyRuns == 1 {
			return s.classify(err, own, nil)
		}
		return s.classify(err, nil, nil)
	}},
	{"Open/release", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		sr := s.newResource(id, false)
		v, release, err := threadrunner.Open(context.Background(), s.r, sr.res)
		if err != nil {
			sr.refusedOK = true
			if release != nil || v != 0 {
				return 0, fmt.Errorf("failed with %v but returned %d and a release", err, v)
			}
			return s.classify(err, nil, nil)
		}
		if v != int(id) {
			return 0, fmt.Errorf("Open() = %d; want %d", v, id)
		}
		if rng.IntN(2) == 0 {
			_, _ = threadrunner.Run(context.Background(), s.r, func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, 0) })
		}
		var how error
		if rng.IntN(2) == 0 {
			how = &relOpError{id}
		}
		err = release(how)
		if err2 := release(how); err2 != nil {
			return 0, fmt.Errorf("second release() = %v; want nil", err2)
		}
		if errors.Is(err, aio.ErrClosed) {
			sr.byClose = true
		} else if len(sr.res.hows) != 1 || sr.res.hows[0] != how {
			// release synchronizes with the Exit it ran: reading is safe.
			return 0, fmt.Errorf("release(%v) = %v, and Exit was told %v; want it told %v", how, err, sr.res.hows, how)
		}
		return s.classify(err, nil, nil)
	}},
	{"Open/abandon", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		sr := s.newResource(id, false)
		v, release, err := threadrunner.Open(context.Background(), s.r, sr.res)
		if err != nil {
			sr.refusedOK = true
			return s.classify(err, nil, nil)
		}
		if v != int(id) || release == nil {
			return 0, fmt.Errorf("Open() = %d, release nil %v; want %d and a release", v, release == nil, id)
		}
		sr.byClose = true // never released: Close must exit it
		return relResult, nil
	}},
	{"Keep", func(s *relStress, rng *rand.Rand, id int64) (relKind, error) {
		sr := s.newResource(id, true)
		v, err := threadrunner.Keep(context.Background(), s.r, sr.res)
		if err != nil {
			sr.refusedOK = true
			return s.classify(err, nil, nil)
		}
		if v != int(id) {
			return 0, fmt.Errorf("Keep() = %d; want %d", v, id)
		}
		sr.byClose = true
		return relResult, nil
	}},
}

var errRelWatchdog = errors.New("watchdog: Wait did not return")

// relWait waits for f, bounded by the watchdog.
func relWait[T any](f *aio.Future[T]) (T, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	v, err := f.Wait(ctx)
	if ctx.Err() != nil && !f.Settled() {
		return v, fmt.Errorf("%w:\n%s", errRelWatchdog, relDump())
	}
	return v, err
}

// relRangeAll ranges over a generator of total values that then runs last,
// and checks that every value came in order, followed by own (if not nil)
// or by ErrClosed.
func relRangeAll(s *relStress, total int, last func(t *aio.Task) error, own error) (relKind, error) {
	g := s.newGen()
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
	n := 0
	for v, err := range threadrunner.Iter(context.Background(), s.r, seq, threadrunner.BatchSize(4)) {
		if err != nil {
			if v != 0 {
				return 0, fmt.Errorf("yielded (%d, %v); want a zero value with the error", v, err)
			}
			if own != nil && errors.Is(err, own) && n != total {
				return 0, fmt.Errorf("yielded its error after %d values; want %d first", n, total)
			}
			return s.classify(err, own, nil)
		}
		if v != n {
			return 0, fmt.Errorf("value %d is %d; want %d", n, v, n)
		}
		n++
	}
	return 0, fmt.Errorf("the range loop ended after %d values without the generator's error or panic", n)
}

// check verifies what only the end of the run reveals: no call misbehaved,
// every resource was exited exactly once, Close exited what it had to in
// reverse order of entry, every generator that started cleaned up, and the
// loop logged nothing unexpected. It logs the outcomes by kind.
func (s *relStress) check(t *testing.T) {
	t.Helper()
	for _, f := range s.failures {
		t.Error(f)
	}
	var total [relKinds]int
	names := make([]string, 0, len(s.counts))
	for name := range s.counts {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		c := s.counts[name]
		fmt.Fprintf(&b, "\n  %-14s", name)
		for k := range relKinds {
			total[k] += c[k]
			if c[k] > 0 {
				fmt.Fprintf(&b, "  %s: %d", k, c[k])
			}
		}
	}
	var sum int
	for _, n := range total {
		sum += n
	}
	t.Logf("%d calls: result %d, own error %d, own panic %d, ErrClosed %d, ctx error %d; by call:%s",
		sum, total[relResult], total[relOwnError], total[relOwnPanic], total[relClosed], total[relCtxError], b.String())
	if total[relResult] == 0 || total[relClosed] == 0 {
		t.Errorf("no call saw a result or none saw ErrClosed: Close did not land in the middle of the calls")
	}

	// Resources: each entered at most once and exited exactly as often.
	var byClose []*relStressRes
	for _, sr := range s.resources {
		if err := sr.res.check(); err != nil {
			t.Error(err)
			continue
		}
		if sr.byClose {
			if sr.res.enters != 1 {
				t.Errorf("resource %d: its call says it was entered, but Enter ran %d times", sr.res.id, sr.res.enters)
				continue
			}
			byClose = append(byClose, sr)
		}
	}
	// Close exited the resources it had to, last entered first, telling a
	// kept one nil and one still open ErrClosed.
	slices.SortFunc(byClose, func(a, b *relStressRes) int { return a.res.exitSeq - b.res.exitSeq })
	for i, sr := range byClose {
		how := sr.res.hows[0]
		if sr.kept && how != nil || !sr.kept && !errors.Is(how, aio.ErrClosed) {
			t.Errorf("resource %d (kept %v) was told %v by Close", sr.res.id, sr.kept, how)
		}
		if i > 0 && byClose[i-1].res.enterSeq < sr.res.enterSeq {
			t.Errorf("Close exited resource %d (entered at %d) before resource %d (entered at %d); want reverse order of entry",
				byClose[i-1].res.id, byClose[i-1].res.enterSeq, sr.res.id, sr.res.enterSeq)
		}
	}
	t.Logf("%d resources, %d exited by Close", len(s.resources), len(byClose))

	for i, g := range s.gens {
		if g.started > 1 || g.cleaned != g.started {
			t.Errorf("generator %d started %d times and cleaned up %d times; want as many cleanups as starts, at most 1", i, g.started, g.cleaned)
		}
	}
	for _, rec := range s.log.list() {
		if rec.msg != "threadrunner: Exit failed while a panic went on" || !strings.Contains(rec.attrs["err"], aio.ErrClosed.Error()) {
			t.Errorf("the loop logged %q %v; want only the ErrClosed of a With whose body panicked as Close came", rec.msg, rec.attrs)
		}
	}
}
