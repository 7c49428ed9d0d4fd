package peers

import (
	"sync/atomic"

	"golang.design/x/mainthread"
)

// served is set while the main goroutine serves golang.design/x/mainthread.
var served atomic.Bool

// ServeMainThread hands the main goroutine to golang.design/x/mainthread for
// the length of fn, which runs on another goroutine: mainthread.Call works
// only meanwhile. It must be called from main (or TestMain), on the main
// goroutine; it returns when fn does.
func ServeMainThread(fn func()) {
	mainthread.Init(func() {
		served.Store(true)
		defer served.Store(false)
		fn()
	})
}

// RunOnMainThread is [ServeMainThread] for a function that returns an exit
// code, such as testing.M's Run: a TestMain is
// os.Exit(peers.RunOnMainThread(m.Run)).
func RunOnMainThread(run func() int) int {
	code := 1
	ServeMainThread(func() { code = run() })
	return code
}

// MainThreadServed reports whether the main goroutine serves
// golang.design/x/mainthread, so that the x-mainthread peer can run.
func MainThreadServed() bool { return served.Load() }

// A MainThread is golang.design/x/mainthread: Call runs a function on the
// main thread, which mainthread.Init keeps for itself, and waits for it.
type MainThread struct {
	count  int // owned by the main thread
	closed atomic.Bool
}

// NewMainThread returns the system; it needs [ServeMainThread] to be running.
func NewMainThread() *MainThread { return &MainThread{} }

// Call implements [System] with mainthread.Call.
func (m *MainThread) Call() (int, error) {
	if m.closed.Load() || !served.Load() {
		return 0, ErrClosed
	}
	var v int
	mainthread.Call(func() {
		m.count++
		v = m.count
	})
	return v, nil
}

// Close implements [System]; the main thread is not the system's to stop.
func (m *MainThread) Close() error {
	m.closed.Store(true)
	return nil
}
