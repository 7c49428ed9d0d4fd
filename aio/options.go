package aio

import (
	"log/slog"
	"runtime"
	"time"
)

// An Option configures a loop: pass it to [Run], [NewLoop] or [Start], or to
// threadrunner.New.
type Option func(*config)

type config struct {
	name      string
	unpinned  bool
	workers   int
	spin      time.Duration
	schedPark bool
	slowAfter time.Duration
	logger    *slog.Logger

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
			o(&c)
		}
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

// defaultSpin is how long the loop and its callers poll for each other before
// they park. Waking a parked thread costs tens of microseconds on common
// hardware; polling a little longer than one hop keeps bursts of calls off
// that path, and the poll ends soon after the last piece of work.
const defaultSpin = 50 * time.Microsecond

// Unpinned runs the loop without locking its goroutine to an OS thread. Tasks
// still run one at a time, so loop-owned state needs no locks, but the thread
// may change between steps. Use it when nothing on the loop is thread-affine.
func Unpinned() Option { return func(c *config) { c.unpinned = true } }

// Pinned undoes an earlier [Unpinned]: the loop locks its goroutine to its OS
// thread, which is the default.
func Pinned() Option { return func(c *config) { c.unpinned = false } }

// Name names the loop in logs and in [Loop.Name].
func Name(name string) Option { return func(c *config) { c.name = name } }

// Workers bounds how many [ToThread] functions run at once; more wait their
// turn. The default is max(4, GOMAXPROCS). n < 1 means 1.
func Workers(n int) Option { return func(c *config) { c.workers = max(1, n) } }

// Spin sets how long the loop and the goroutines that wait for it poll before
// they park (default 50µs; with GOMAXPROCS 1 there is no spinning and the
// loop parks as with [ParkInRuntime]). Spinning happens only
// right after work, so an idle loop costs no CPU either way; 0 saves CPU at the
// price of a slower hop when calls are spread out.
func Spin(d time.Duration) Option { return func(c *config) { c.spin = max(0, d) } }

// ParkInRuntime makes the loop wait for work in the Go scheduler (on a
// channel) rather than in a futex, and turns spinning off. Waking a pinned
// loop then costs more, but the loop is visible to testing/synctest: use it
// for a loop created inside a synctest bubble. On systems other than Linux the
// loop always parks in the scheduler.
func ParkInRuntime() Option {
	return func(c *config) { c.schedPark, c.spin = true, 0 }
}

// SlowTask makes the loop report, through logger (slog.Default if nil), every
// task step that holds the loop longer than d: while the step still runs, a
// watchdog logs the task's name and the stack where it is stuck; a slow step
// that ended before the watchdog saw it is logged with its duration when it
// ends. d <= 0 turns the report off.
func SlowTask(d time.Duration, logger *slog.Logger) Option {
	return func(c *config) {
		c.slowAfter = d
		if logger != nil {
			c.logger = logger
		}
	}
}

// Logger sets where the loop logs what nobody else can receive: a panic in a
// task whose outcome was never retrieved. The default is slog.Default.
func Logger(logger *slog.Logger) Option {
	return func(c *config) {
		if logger != nil {
			c.logger = logger
		}
	}
}
