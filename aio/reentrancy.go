package aio

import (
	"sync"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// InLoop reports whether the caller is code running on l: one of its tasks
// or callbacks. A blocking call there would deadlock; the blocking functions
// of this package use it to return [ErrLoopThread] instead. It is safe to
// call from any goroutine; it costs a system call on a busy pinned loop and
// a few microseconds on a busy unpinned one.
func (l *Loop) InLoop() bool { return l.onLoopThread() }

// onLoopThread reports whether the caller runs on the loop's goroutine or one
// of its coroutines, where a blocking call on the loop would deadlock.
func (l *Loop) onLoopThread() bool {
	if l == nil || !l.busy.Load() {
		// No user code runs on the loop: the caller is elsewhere.
		return false
	}
	if !l.cfg.unpinned {
		if tid := l.tid.Load(); tid != 0 {
			return int64(threadID()) == tid
		}
	}
	g := goid.Get()
	return g == l.userG.Load() || g == l.goid.Load()
}

// onPinnedLoopThread reports whether the caller is user code of l on a
// pinned loop's thread, where loop-owned state may be touched directly. It
// is cheap enough for hot paths (a load, and a system call only while the
// loop runs user code); on an unpinned loop it says false, and callers take
// the path that is right from anywhere.
func (l *Loop) onPinnedLoopThread() bool {
	if !l.busy.Load() || l.cfg.unpinned {
		return false
	}
	tid := l.tid.Load()
	return tid != 0 && int64(threadID()) == tid
}

// inToThread reports whether the caller is a function that ToThread runs for
// l. Such a function may call into l (Call, Spawn), but not close it: closing
// waits for every ToThread function to return.
func (l *Loop) inToThread() bool { return l != nil && l.threads.isWorker() }

// The running loops, so that a blocking call can tell whether it is made
// from some loop's thread (see onAnyLoopThread).
var running struct {
	mu    sync.Mutex
	loops map[*Loop]struct{}
}

func register(l *Loop) {
	running.mu.Lock()
	defer running.mu.Unlock()
	if running.loops == nil {
		running.loops = make(map[*Loop]struct{})
	}
	running.loops[l] = struct{}{}
}

func unregister(l *Loop) {
	running.mu.Lock()
	defer running.mu.Unlock()
	delete(running.loops, l)
}

// onAnyLoopThread reports whether the caller is user code of some running
// loop: a blocking call made there blocks that loop. It is slow; only calls
// that are about to wait long ask it.
func onAnyLoopThread() bool {
	running.mu.Lock()
	loops := make([]*Loop, 0, len(running.loops))
	for l := range running.loops {
		loops = append(loops, l)
	}
	running.mu.Unlock()
	for _, l := range loops {
		if l.onLoopThread() {
			return true
		}
	}
	return false
}
