package aio

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A threadJob is work for the pool: one ToThread call.
type threadJob interface {
	work(goexit func())            // runs on a pool thread, under the catcher
	complete(l *Loop, goexit bool) // runs on the loop once work has returned or Goexited
}

// threadPool runs ToThread functions on at most max goroutines of its own
// (the pool's threads), which it starts as needed and keeps until the loop
// stops. A thread that waits for a job sleeps in a futex on its own word, so
// that the loop hands it a job with one system call and it runs on its own
// OS thread at once. (A goroutine the loop starts or readies lands in the
// loop's own run queue, where a busy pinned loop leaves it waiting.) The pool
// is loop-owned but for goids.
type threadPool struct {
	max       int
	threads   []*poolThread // every thread started and not lost to a Goexit
	idle      []*poolThread // threads waiting for a job
	queue     []threadJob   // jobs waiting for a thread
	submitted []threadJob   // jobs submitted during the current step
	running   int           // jobs handed out and not yet back

	goidsMu sync.Mutex      // guards goids
	goids   map[uint64]bool // the threads' goroutines, for Shutdown's check
}

// A poolThread is one goroutine of the pool.
type poolThread struct {
	itemLink
	l       *Loop
	word    uint32        // atomic: threadIdle, threadSleeping, threadHasJob or threadQuit
	job     threadJob     // set by the loop before word becomes threadHasJob
	ch      chan struct{} // size 1: where it waits when the loop parks in the scheduler
	done    threadJob     // the job it hands back; read by the loop in runOnLoop
	goexits bool          // done called runtime.Goexit, which ended this goroutine
	running threadJob     // loop-owned: the job handed out and not back yet, for the task dump
	gid     atomic.Uint64 // its goroutine's id, once it runs
}

const (
	threadIdle uint32 = iota
	threadSleeping
	threadHasJob
	threadQuit
)

// submit queues j, to be handed out by dispatch once the submitting task's
// step is over: a job that started at once could run while the task it
// belongs to still runs, and see it as running.
func (p *threadPool) submit(j threadJob) {
	p.submitted = append(p.submitted, j)
}

// dispatch hands out the jobs submitted during the step that just ended. It
// runs on the loop, between steps.
func (p *threadPool) dispatch(l *Loop) {
	for _, j := range p.submitted {
		p.start(l, j)
	}
	clear(p.submitted)
	p.submitted = p.submitted[:0]
}

// start runs j on an idle thread, on a new thread if the pool may grow, or
// queues it.
func (p *threadPool) start(l *Loop, j threadJob) {
	switch {
	case len(p.idle) > 0:
		w := p.idle[len(p.idle)-1]
		p.idle = slices.Delete(p.idle, len(p.idle)-1, len(p.idle))
		p.running++
		w.give(j)
	case len(p.threads) < p.max:
		w := &poolThread{l: l, ch: make(chan struct{}, 1), job: j, word: threadHasJob, running: j}
		p.threads = append(p.threads, w)
		p.running++
		l.helpers.Add(1)
		go w.serve()
	default:
		p.queue = append(p.queue, j)
	}
}

// finished takes back a thread whose job came back: it gets the next queued
// job, or waits. A thread a Goexit ended is dropped, and the next queued job
// goes to a new one.
func (p *threadPool) finished(l *Loop, w *poolThread) {
	p.running--
	w.running = nil
	if w.goexits {
		p.threads = slices.DeleteFunc(p.threads, func(x *poolThread) bool { return x == w })
		if len(p.queue) > 0 {
			j := p.queue[0]
			p.queue = slices.Delete(p.queue, 0, 1)
			p.start(l, j)
		}
		return
	}
	if len(p.queue) > 0 {
		j := p.queue[0]
		p.queue = slices.Delete(p.queue, 0, 1)
		p.running++
		w.give(j)
		return
	}
	p.idle = append(p.idle, w)
}

// unqueue removes j if it waits for a thread, and reports whether it did.
// A job is never still in submitted here: the task that submitted it is
// resumed only in a later step, after dispatch.
func (p *threadPool) unqueue(j threadJob) bool {
	if i := slices.Index(p.queue, j); i >= 0 {
		p.queue = slices.Delete(p.queue, i, i+1)
		return true
	}
	return false
}

// stop tells every thread to exit; the loop's teardown waits for them.
func (p *threadPool) stop() {
	for _, w := range p.threads {
		w.signal(threadQuit)
	}
	p.threads, p.idle = nil, nil
}

// goidRunning returns the goroutine id of the thread running j, or 0 if j
// is not running. It runs on the loop.
func (p *threadPool) goidRunning(j threadJob) uint64 {
	for _, w := range p.threads {
		if w.running == j {
			return w.gid.Load()
		}
	}
	return 0
}

// isWorker reports whether the calling goroutine is one of the pool's.
func (p *threadPool) isWorker() bool {
	p.goidsMu.Lock()
	n := len(p.goids)
	p.goidsMu.Unlock()
	if n == 0 {
		return false
	}
	id := goid.Get()
	p.goidsMu.Lock()
	defer p.goidsMu.Unlock()
	return p.goids[id]
}

// give hands w a job. It runs on the loop.
func (w *poolThread) give(j threadJob) {
	w.job, w.running = j, j
	w.signal(threadHasJob)
}

func (w *poolThread) signal(state uint32) {
	if atomic.SwapUint32(&w.word, state) == threadSleeping {
		if haveFutex && !w.l.cfg.schedPark {
			futexWake(&w.word, 1)
			return
		}
	}
	if !haveFutex || w.l.cfg.schedPark {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

func (w *poolThread) serve() {
	l := w.l
	defer l.helpers.Done()
	p := &l.threads
	id := goid.Get()
	w.gid.Store(id)
	p.goidsMu.Lock()
	if p.goids == nil {
		p.goids = make(map[uint64]bool)
	}
	p.goids[id] = true
	p.goidsMu.Unlock()
	defer func() {
		p.goidsMu.Lock()
		delete(p.goids, id)
		p.goidsMu.Unlock()
	}()
	for {
		switch w.wait() {
		case threadQuit:
			return
		case threadHasJob:
			j := w.job
			w.job = nil
			atomic.StoreUint32(&w.word, threadIdle)
			j.work(func() {
				// The job called runtime.Goexit, which ends this goroutine
				// once the deferred calls have run: hand the job back all
				// the same, and the loop replaces the thread.
				w.done, w.goexits = j, true
				l.inbox.post(w)
			})
			w.done = j
			l.inbox.post(w)
		}
	}
}

// wait blocks until the loop gives w a job or tells it to quit, and returns
// which. It spins first, for bursts of ToThread calls.
func (w *poolThread) wait() uint32 {
	if s := atomic.LoadUint32(&w.word); s != threadIdle {
		return s
	}
	l := w.l
	if l.holdSlot() {
		l.spinFor(func() bool { return atomic.LoadUint32(&w.word) != threadIdle })
		l.releaseSlot()
	}
	for {
		s := atomic.LoadUint32(&w.word)
		if s == threadHasJob || s == threadQuit {
			return s
		}
		if s == threadIdle && !atomic.CompareAndSwapUint32(&w.word, threadIdle, threadSleeping) {
			continue
		}
		if haveFutex && !l.cfg.schedPark {
			futexWait(&w.word, threadSleeping, -1)
			continue
		}
		<-w.ch
	}
}

// runOnLoop hands the thread's finished job back to its task.
func (w *poolThread) runOnLoop(l *Loop) {
	j, goexits := w.done, w.goexits
	w.done = nil
	l.threads.finished(l, w)
	j.complete(l, goexits)
}
