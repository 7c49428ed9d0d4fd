// Package stress holds one threadrunner.Runner under a mixed load from many
// goroutines, closes it under that load, and checks that every call ended in
// a way the contract allows: its own value, error or panic, its context's
// error, or aio.ErrClosed once Close has begun. At the end it checks what only
// the end reveals: every resource was exited exactly once, Close exited the
// ones it had to in reverse order of entry, the loop logged nothing it should
// not have, and the loop stopped.
//
// The root package's TestStress runs it briefly, scaled by GOMAXPROCS, with
// every operation ([Full]); bench's soak runs it for minutes with the
// operations that leave nothing behind ([Steady]) and adds a memory verdict.
package stress

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/goid"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// Config sizes a run. Only Duration is required.
type Config struct {
	Options     []aio.Option  // for threadrunner.New; Run sets the loop's logger itself, after them
	Workers     int           // calling goroutines; 0 means DefaultWorkers()
	Duration    time.Duration // how long the load runs before Close; must be > 0
	Seed        uint64        // seeds the workers' choices
	Mix         []Op          // the operations and their weights; nil means Full()
	Kept        int           // resources kept with threadrunner.Keep before the load begins
	Closers     int           // goroutines that call Close, a millisecond apart; 0 means 1
	AfterClose  int           // calls each worker makes once Close has returned; each must end with ErrClosed
	Checkpoints []Checkpoint  // called while the load runs
	StuckAfter  time.Duration // how long Close and the workers may take once Close begins, and a Wait may take; 0 means 30s
}

// A Checkpoint is a function the run calls, on the goroutine that called
// [Run], once a fraction At (0 to 1) of Config.Duration has passed.
type Checkpoint struct {
	At float64
	Fn func()
}

// DefaultWorkers is the number of callers when Config.Workers is 0: at least
// 48, more on bigger machines.
func DefaultWorkers() int { return max(48, 12*runtime.GOMAXPROCS(0)) }

// MaxDisallowed is how many disallowed outcomes a [Result] describes; it
// counts them all.
const MaxDisallowed = 20

// exitPanicLog is the one record the loop may log under this load: a With
// whose body panicked as Close came cannot hand Exit's ErrClosed to anyone.
const exitPanicLog = "threadrunner: Exit failed while a panic went on"

// run is the state of one run that the workers share.
type run struct {
	cfg   Config
	mix   []Op
	total int // sum of the mix's weights
	r     *threadrunner.Runner
	logs  *testkit.LogSink

	ids      atomic.Int64
	closing  atomic.Bool // set just before the first Close call
	closed   atomic.Bool // set once a Close call has returned
	inflight []atomic.Pointer[call]
	seq      int // Enter and Exit calls so far; loop-owned

	mu       sync.Mutex  // guards what follows
	bad      []string    // the first MaxDisallowed disallowed outcomes
	retained []*resource // resources whose fate only the end of the run shows
	made     int         // resources made
}

// A call is one call in flight, for the report of a stuck run.
type call struct {
	op    string
	id    int64
	began time.Time
}

// Run runs the load that cfg describes and returns what it saw. It returns an
// error only if the run could not be set up; a run that saw something wrong
// says so in the Result (see [Result.OK]). If Close or the workers do not
// return within StuckAfter of Close, Run returns at once with Result.Stuck
// set, leaving them running.
func Run(cfg Config) (*Result, error) {
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("stress: Duration = %v; want > 0", cfg.Duration)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers()
	}
	cfg.Closers = max(cfg.Closers, 1)
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = 30 * time.Second
	}
	s := &run{cfg: cfg, mix: cfg.Mix, logs: &testkit.LogSink{}, inflight: make([]atomic.Pointer[call], cfg.Workers)}
	if s.mix == nil {
		s.mix = Full()
	}
	for _, op := range s.mix {
		s.total += op.Weight
	}
	if s.total <= 0 {
		return nil, fmt.Errorf("stress: the mix's weights add up to %d; want > 0", s.total)
	}
	s.r = threadrunner.New(append(slices.Clip(cfg.Options), aio.Logger(s.logs.Logger()))...)
	kept, err := s.keep(cfg.Kept)
	if err != nil {
		s.r.Close()
		return nil, err
	}

	workers := make([]*worker, cfg.Workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		workers[i] = newWorker(s, i)
		wg.Go(workers[i].loop)
	}
	at := func(frac float64) { time.Sleep(time.Until(start.Add(time.Duration(frac * float64(cfg.Duration))))) }
	for _, c := range slices.SortedFunc(slices.Values(cfg.Checkpoints), func(a, b Checkpoint) int { return cmp.Compare(a.At, b.At) }) {
		at(c.At)
		c.Fn()
	}
	at(1)

	// Close under load: calls in flight and calls made from now on end
	// with ErrClosed.
	s.closing.Store(true)
	closeStart := time.Now()
	closeErrs := make([]error, cfg.Closers)
	var closeTook time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		var closers sync.WaitGroup
		for i := range cfg.Closers {
			closers.Go(func() {
				time.Sleep(time.Duration(i) * time.Millisecond)
				closeErrs[i] = s.r.Close()
				s.closed.Store(true)
			})
		}
		closers.Wait()
		closeTook = time.Since(closeStart)
		wg.Wait()
	}()
	timer := time.NewTimer(cfg.StuckAfter)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		return &Result{Workers: cfg.Workers, Stuck: s.stuck()}, nil
	}

	res := &Result{Workers: cfg.Workers, Elapsed: time.Since(start), CloseTook: closeTook, CloseErrs: closeErrs}
	res.ByOp = make([]OpOutcomes, len(s.mix))
	for i, op := range s.mix {
		res.ByOp[i].Name = op.Name
	}
	for _, w := range workers {
		for i, c := range w.counts {
			for k, n := range c {
				res.ByOp[i].Outcomes[k] += n
				res.Outcomes[k] += n
			}
		}
		res.Latency.Merge(&w.lat)
	}
	res.Disallowed = s.bad
	select {
	case <-s.r.Loop().Done():
	default:
		res.Problems = append(res.Problems, "the loop still runs after Close returned")
	}
	res.KeptProblems = checkKept(kept)
	res.Problems = append(res.Problems, s.checkResources(res)...)
	for _, rec := range s.logs.Records() {
		if rec.Message != exitPanicLog || !strings.Contains(rec.Attrs["err"], aio.ErrClosed.Error()) {
			res.Problems = append(res.Problems, fmt.Sprintf("the loop logged %q %v; want only the ErrClosed of a With whose body panicked as Close came", rec.Message, rec.Attrs))
		}
	}
	return res, nil
}

// disallowed notes a disallowed outcome, keeping the first MaxDisallowed.
func (s *run) disallowed(op string, id int64, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) < MaxDisallowed {
		s.bad = append(s.bad, fmt.Sprintf("%s (call %d): %s", op, id, why))
	}
}

// stuck describes the calls still in flight and every goroutine's stack.
func (s *run) stuck() string {
	var b strings.Builder
	for i := range s.inflight {
		if c := s.inflight[i].Load(); c != nil {
			fmt.Fprintf(&b, "worker %d: %s (call %d) for %v\n", i, c.op, c.id, time.Since(c.began))
		}
	}
	fmt.Fprintf(&b, "\ngoroutines:\n%s", goid.Stacks())
	return b.String()
}
