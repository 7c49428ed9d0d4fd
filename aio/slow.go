package aio

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// stepWatch publishes the running step to SlowTask's watchdog.
type stepWatch struct {
	seq  atomic.Uint64 // counts steps
	info atomic.Pointer[stepInfo]
}

// stepInfo describes the running step to the watchdog goroutine; it is
// immutable once published.
type stepInfo struct {
	seq   uint64
	began int64    // ns since the loop's epoch
	t     *Task    // for its name, which SetName may change during the step; nil for callbacks
	id    uint64   // t's id
	body  taskBody // t's function, for its name
	goid  uint64   // the coroutine running the step

	reported atomic.Bool // the step has been reported, by the watchdog or the loop
}

// begin publishes the step of t (nil: a batch of callbacks) that is about to
// run on coroutine goid.
func (w *stepWatch) begin(l *Loop, t *Task, goid uint64) *stepInfo {
	info := &stepInfo{seq: w.seq.Add(1), began: l.now(), goid: goid}
	if t != nil {
		info.t, info.id, info.body = t, t.id, t.body
	}
	w.info.Store(info)
	return info
}

// end retracts the step, and reports it if it was slow and the watchdog did
// not see it. It runs on the loop.
func (w *stepWatch) end(l *Loop, info *stepInfo) {
	w.info.Store(nil)
	held := time.Duration(l.now() - info.began)
	if held < l.cfg.slowAfter || !info.reported.CompareAndSwap(false, true) {
		return
	}
	l.reportOnLoop(slog.LevelWarn, "aio: task step blocked the loop",
		"loop", l.Name(), "task", info.task(), "held", held, "threshold", l.cfg.slowAfter)
}

// task names the step's task, as Task.String does, from any goroutine.
func (s *stepInfo) task() string {
	if s.t == nil {
		return "callbacks"
	}
	name := s.body.funcName()
	if p := s.t.name.Load(); p != nil {
		name = *p
	}
	return fmt.Sprintf("task %d (%s)", s.id, name)
}

// watchSlowSteps starts the watchdog of [SlowTask]: a goroutine that looks at
// the running step every quarter of the threshold and, when one has held the
// loop too long, logs the task and the stack where it is. It returns a
// function that stops the watchdog and waits for it. A Logger that panics
// is reported to standard error; one that calls runtime.Goexit ends the
// watchdog's goroutine, and another takes over.
func (l *Loop) watchSlowSteps() (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	var reported atomic.Uint64
	var watch func()
	watch = func() {
		defer wg.Done()
		ticker := time.NewTicker(max(l.cfg.slowAfter/4, 100*time.Microsecond))
		defer ticker.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
			}
			catch(func() { l.checkSlowStep(&reported) }, func() {
				wg.Add(1)
				go watch()
			})
		}
	}
	wg.Add(1)
	go watch()
	return func() {
		close(quit)
		wg.Wait()
	}
}

// checkSlowStep reports the running step if it has held the loop too long
// and was not reported yet.
func (l *Loop) checkSlowStep(reported *atomic.Uint64) {
	info := l.watch.info.Load()
	if info == nil || info.seq == reported.Load() {
		return
	}
	held := time.Duration(l.now() - info.began)
	if held < l.cfg.slowAfter {
		return
	}
	stack, task := goroutineStack(info.goid), info.task()
	if l.watch.info.Load() != info {
		return // the step ended meanwhile: t may be another task now
	}
	reported.Store(info.seq)
	if !info.reported.CompareAndSwap(false, true) {
		return // the loop reported the step as it ended
	}
	l.report(slog.LevelWarn, "aio: task is blocking the loop",
		"loop", l.Name(), "task", task, "held", held,
		"threshold", l.cfg.slowAfter, "stack", stack)
}

// goroutineStack returns the stack of goroutine id, or a note saying it
// could not be found.
func goroutineStack(id uint64) string {
	if s, ok := goid.Stack(id); ok {
		return s
	}
	return fmt.Sprintf("(goroutine %d not found)", id)
}
