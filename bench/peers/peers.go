// Package peers holds the systems the benchmarks compare: each runs functions
// on a thread of its own for other goroutines, behind the same small
// interfaces, so that one benchmark or report case can run them side by side.
//
// Every system implements [System] (a round trip). The other interfaces are
// optional, for the cases where a system has an equivalent: [Submitter],
// [Streamer], [Spawner], [Sleeper], [Suspender].
package peers

import (
	"errors"
	"github.com/threadrunner/threadrunner/aio"
	"time"
)

// A System runs functions on a thread (or goroutine) of its own.
type System interface {
	// Call runs a trivial function on the system's thread and waits for it:
	// the function increments a counter that only that thread touches, and
	// Call returns the new count. Call is safe for concurrent use.
	Call() (int, error)
	// Close stops the system and waits for its goroutines to exit.
	Close() error
}

// A Submitter starts the trivial function of [System.Call] without waiting,
// then waits for its result (threadrunner.Submit and Future.Wait).
type Submitter interface {
	SubmitWait() (int, error)
}

// A Streamer produces the values 0, 1, 2, ... on the system's thread and
// hands them to the calling goroutine, which consumes them while more reports
// true. Stream returns how many values were consumed and their sum, so that
// a test can check that none was lost or repeated.
type Streamer interface {
	Stream(more func() bool) (n, sum int, err error)
}

// A Spawner runs, on the system's thread, a loop that starts a child task
// and awaits its result while more reports true. more is called on the
// system's thread. SpawnAwait returns the number of children awaited.
type Spawner interface {
	SpawnAwait(more func() bool) (int, error)
}

// A Sleeper runs n sleeps of random durations in [0, max) spread over k
// concurrent tasks of the system, and returns when all have ended.
type Sleeper interface {
	Sleeps(n, k int, max time.Duration) error
}

// A Suspender suspends n tasks of the system (each awaits something that has
// not happened yet), calls measure in the calling goroutine while all n are
// suspended, then releases them and waits for them to end.
type Suspender interface {
	Suspend(n int, measure func()) error
}

// A Peer names a system and says how to make one.
type Peer struct {
	Name string // short, stable name used in benchmark and report output
	Doc  string // one line: what the system is
	New  func() (System, error)
	// Proto is a zero value of the system's type, for telling which of the
	// optional interfaces it implements without starting one.
	Proto System
}

// Implements reports whether p's systems implement I.
func Implements[I any](p Peer) bool {
	_, ok := p.Proto.(I)
	return ok
}

// The peers' names, as benchmarks and the report print them. The naive
// locked loop and the plain channel are the references ratios are computed
// against.
const (
	NameNaive       = "naive-locked"
	NameChan        = "chan-unlocked"
	NameMainThread  = "x-mainthread"
	NameGojaLoop    = "goja-loop"
	NameGojaPromise = "goja-promise"
	NamePinned      = "tr-pinned"
	NameUnpinned    = "tr-unpinned"
	NameLabels      = "tr-labels"
)

// All returns every peer, references first, then those of the JavaScript
// cases (js.go). The x-mainthread peer needs the
// process's main goroutine to be serving golang.design/x/mainthread.Init (see
// [ServeMainThread]); if it is not, All leaves it out.
func All() []Peer {
	ps := []Peer{{
		Name:  NameNaive,
		Doc:   "goroutine with runtime.LockOSThread serving a request channel",
		New:   func() (System, error) { return NewChanLoop(true), nil },
		Proto: (*ChanLoop)(nil),
	}, {
		Name:  NameChan,
		Doc:   "the same goroutine without the lock (task cases: a goroutine per task)",
		New:   func() (System, error) { return NewUnlocked(), nil },
		Proto: Unlocked{},
	}}
	if MainThreadServed() {
		ps = append(ps, Peer{
			Name:  NameMainThread,
			Doc:   "golang.design/x/mainthread.Call",
			New:   func() (System, error) { return NewMainThread(), nil },
			Proto: (*MainThread)(nil),
		})
	}
	return append(append(ps, Peer{
		Name:  NameGojaLoop,
		Doc:   "goja_nodejs eventloop.RunOnLoop, waited for on a channel",
		New:   newSystem(NewGoja),
		Proto: (*Goja)(nil),
	}, Peer{
		Name:  NameGojaPromise,
		Doc:   "goja_nodejs: call an async JS function on the loop, await its promise from Go",
		New:   newSystem(NewGojaPromise),
		Proto: GojaPromise{},
	}, Peer{
		Name:  NamePinned,
		Doc:   "threadrunner, pinned loop (the default)",
		New:   func() (System, error) { return NewThreadrunner(true), nil },
		Proto: (*Threadrunner)(nil),
	}, Peer{
		Name:  NameUnpinned,
		Doc:   "threadrunner, aio.Unpinned()",
		New:   func() (System, error) { return NewThreadrunner(false), nil },
		Proto: (*Threadrunner)(nil),
	}, Peer{
		Name:  NameLabels,
		Doc:   "threadrunner, pinned, aio.ProfileLabels(): every task's steps labelled for pprof",
		New:   func() (System, error) { return NewThreadrunner(true, aio.ProfileLabels()), nil },
		Proto: (*Threadrunner)(nil),
	}), jsPeers()...)
}

// newSystem adapts a constructor that can fail to Peer.New, so that a failed
// one gives a nil System rather than a System holding a nil pointer.
func newSystem[S System](mk func() (S, error)) func() (System, error) {
	return func() (System, error) {
		s, err := mk()
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Find returns the peer named name.
func Find(name string) (Peer, bool) {
	for _, p := range All() {
		if p.Name == name {
			return p, true
		}
	}
	return Peer{}, false
}

// ErrClosed is returned by a system's methods after Close.
var ErrClosed = errors.New("peers: system closed")
