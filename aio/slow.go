package aio

import (
	"bytes"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// watchSlowSteps starts the watchdog of [SlowTask]: a goroutine that looks at
// the running step every quarter of the threshold and, when one has held the
// loop too long, logs the task and the stack where it is. It returns a
// function that stops the watchdog and waits for it.
func (l *Loop) watchSlowSteps() (stop func()) {
	quit := make(chan struct{})
	exited := make(chan struct{})
	tick := max(l.cfg.slowAfter/4, 100*time.Microsecond)
	go func() {
		defer close(exited)
		ticker := time.NewTicker(tick)
		defer ticker.Stop()
		var reported uint64
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
			}
			info := l.stepInfo.Load()
			if info == nil || info.seq == reported {
				continue
			}
			held := time.Duration(l.now() - info.began)
			if held < l.cfg.slowAfter {
				continue
			}
			stack, task := goroutineStack(info.goid), info.task()
			if l.stepInfo.Load() != info {
				continue // the step ended meanwhile: t may be another task now
			}
			reported = info.seq
			if !info.reported.CompareAndSwap(false, true) {
				continue // the loop reported the step as it ended
			}
			l.cfg.logger.Warn("aio: task is blocking the loop",
				"loop", l.Name(), "task", task, "held", held,
				"threshold", l.cfg.slowAfter, "stack", stack)
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// stepInfo describes the running step to the watchdog goroutine; it is
// immutable once published.
type stepInfo struct {
	seq   uint64
	began int64    // ns since the loop's epoch
	t     *Task    // for its name, which SetName may change during the step
	id    uint64   // t's id
	body  taskBody // t's function, for its name
	goid  uint64   // the coroutine running the step

	reported atomic.Bool // the step has been reported, by the watchdog or the loop
}

// task names the step's task, as Task.String does, from any goroutine.
func (s *stepInfo) task() string {
	name := s.body.funcName()
	if p := s.t.name.Load(); p != nil {
		name = *p
	}
	return fmt.Sprintf("task %d (%s)", s.id, name)
}

// reportSlowStep logs a step that held the loop longer than the threshold
// and ended before the watchdog reported it. It runs on the loop.
func (l *Loop) reportSlowStep(info *stepInfo) {
	held := time.Duration(l.now() - info.began)
	if held < l.cfg.slowAfter || !info.reported.CompareAndSwap(false, true) {
		return
	}
	l.cfg.logger.Warn("aio: task step blocked the loop",
		"loop", l.Name(), "task", info.task(), "held", held, "threshold", l.cfg.slowAfter)
}

// goroutineStack returns the stack of goroutine id, taken from a dump of all
// goroutines, or a note saying it could not be found.
func goroutineStack(id uint64) string {
	buf := goid.Stacks()
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	i := bytes.Index(buf, head)
	if i < 0 {
		return fmt.Sprintf("(goroutine %d not found)", id)
	}
	s := buf[i:]
	if j := bytes.Index(s, []byte("\n\n")); j >= 0 {
		s = s[:j]
	}
	return string(s)
}
