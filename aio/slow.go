package aio

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"time"
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
			seq := l.stepSeq.Load()
			at := l.stepAt.Load()
			if at == 0 || seq == reported {
				continue
			}
			held := time.Duration(l.now() - at)
			if held < l.cfg.slowAfter {
				continue
			}
			t := l.stepTask.Load()
			g := l.stepG.Load()
			if l.stepSeq.Load() != seq || t == nil {
				continue
			}
			reported = seq
			l.slowSeen.Store(seq)
			l.cfg.logger.Warn("aio: task is blocking the loop",
				"loop", l.Name(), "task", t.String(), "held", held,
				"threshold", l.cfg.slowAfter, "stack", goroutineStack(g))
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// reportSlowStep logs a step that held the loop longer than the threshold
// and ended before the watchdog reported it. It runs on the loop.
func (l *Loop) reportSlowStep(t *Task, seq uint64, began int64) {
	held := time.Duration(l.now() - began)
	if held < l.cfg.slowAfter || l.slowSeen.Load() == seq {
		return
	}
	l.cfg.logger.Warn("aio: task step blocked the loop",
		"loop", l.Name(), "task", t.String(), "held", held, "threshold", l.cfg.slowAfter)
}

// goroutineStack returns the stack of goroutine id, taken from a dump of all
// goroutines, or a note saying it could not be found.
func goroutineStack(id uint64) string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
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
