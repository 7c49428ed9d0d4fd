package aio

import (
	"errors"
	"log/slog"
	"runtime"
	"time"
)

// An Option configures a loop: pass it to [Run], [NewLoop] or [Start], or to
// threadrunner.New. Options are checked together: conflicting or invalid
// ones are refused, not silently overridden; the loop then refuses all work
// with an error that says why (errors.Is [ErrInvalid]), and [Run],
// [Loop.Serve] and every call into the loop return it.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	name      string
	unpinned  bool
	workers   int
	spin      time.Duration
	spinSet   bool // Spin was given
	schedPark bool
	parkSet   bool // ParkInRuntime was given
	slowAfter time.Duration
	labels    bool // ProfileLabels
	logger    *slog.Logger
	err       error // why the options were refused

	maxHolders int32 // waiters that may spin or sleep in a futex at once (holdSlot)
}

func newConfig(opts []Option) config {
	c := config{
		workers: max(4, runtime.GOMAXPROCS(0)),
		spin:    defaultSpin,
		logger:  slog.Default(),
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	c.err = c.check()
	if c.parkSet {
		c.spin = 0
	}
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		// With one P a spinner only delays the goroutine it waits for, and a
		// thread asleep in a futex keeps that P from everyone else until
		// the runtime takes it back: park in the scheduler instead.
		c.spin, c.schedPark = 0, true
	}
	// The loop holds one P; waiters may hold the others, one each.
	c.maxHolders = int32(max(1, procs-1))
	return c
}

// check returns the error of options that conflict or are out of range.
func (c *config) check() error {
	var errs []error
	if c.workers < 1 {
		errs = append(errs, invalid("option Workers(%d): want at least 1", c.workers))
	}
	if c.spin < 0 {
		errs = append(errs, invalid("option Spin(%v): want a duration >= 0", c.spin))
	}
	if c.parkSet && c.spinSet && c.spin > 0 {
		errs = append(errs, invalid("options ParkInRuntime and Spin(%v) conflict: a loop that parks in the runtime does not spin", c.spin))
	}
	return errors.Join(errs...)
}

// defaultSpin is how long the loop and its callers poll for each other before
// they park. Waking a parked thread costs tens of microseconds on common
// hardware; polling a little longer than one hop keeps bursts of calls off
// that path, and the poll ends soon after the last piece of work.
const defaultSpin = 50 * time.Microsecond

// Unpinned runs the loop without locking its goroutine to an OS thread. Tasks
// still run one at a time, so loop-owned state needs no locks, but the thread
// may change between steps. Use it when nothing on the loop is thread-affine.
func Unpinned() Option { return optionFunc(func(c *config) { c.unpinned = true }) }

// Name names the loop in logs and in [Loop.Name].
func Name(name string) Option { return optionFunc(func(c *config) { c.name = name }) }

// Workers bounds how many [ToThread] functions run at once; more wait their
// turn. The default is max(4, GOMAXPROCS); n must be at least 1.
func Workers(n int) Option { return optionFunc(func(c *config) { c.workers = n }) }

// Spin sets how long the loop and the goroutines that wait for it poll before
// they park (default 50µs; with GOMAXPROCS 1 there is no spinning and the loop
// parks as with [ParkInRuntime]). The loop spins only right after work that
// other goroutines posted, so an idle loop costs no CPU either way, nor does
// a loop woken only by timers; 0 saves CPU at the price of a slower hop when
// calls are spread out. d must not be negative, and conflicts with
// ParkInRuntime unless 0.
func Spin(d time.Duration) Option {
	return optionFunc(func(c *config) { c.spin, c.spinSet = d, true })
}

// ParkInRuntime makes the loop wait for work in the Go scheduler (on a
// channel) rather than in a futex, and turns spinning off. Waking a pinned
// loop then costs more, but the loop is visible to testing/synctest: use it
// for a loop created inside a synctest bubble. On systems other than Linux the
// loop always parks in the scheduler.
func ParkInRuntime() Option {
	return optionFunc(func(c *config) { c.schedPark, c.parkSet = true, true })
}

// SlowTask makes the loop report, through its [Logger], every task step (and
// batch of callbacks) that holds the loop longer than d: while the step still
// runs, a watchdog logs the task's name and the stack where it is stuck; a
// slow step that ended before the watchdog saw it is logged with its duration
// when it ends. d <= 0 turns the report off.
func SlowTask(d time.Duration) Option {
	return optionFunc(func(c *config) { c.slowAfter = d })
}

// Logger sets where the loop logs what nobody else can receive: a panic in a
// task whose outcome was never retrieved, a callback's panic, a slow step. The
// default (and what a nil logger means) is slog.Default. A Logger whose
// handler panics is reported to standard error instead; the loop serves on.
func Logger(logger *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if logger == nil {
			logger = slog.Default()
		}
		c.logger = logger
	})
}
