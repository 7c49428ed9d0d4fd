package aio

import (
	"sync"
	"sync/atomic"

	"github.com/threadrunner/threadrunner/internal/goid"
)

// A threadJob is work for the pool: one ToThread call.
type threadJob interface {
	work()            // runs on a pool worker
	complete(l *Loop) // runs on the loop once work has returned
}

// threadPool runs ToThread functions on at most max worker goroutines, which
// it starts as needed and keeps until the loop stops. A worker that waits for
// a job sleeps in a futex on its own word, so that the loop hands it a job
// with one system call and it runs on its own thread at once. (A goroutine
// the loop starts or readies lands in the loop's own run queue, where a busy
// pinned loop leaves it waiting.) The pool is loop-owned but for goids.
type threadPool struct {
	max       int
	workers   []*poolWorker // every worker started
	idle      []*poolWorker // workers waiting for a job
	queue     []threadJob   // jobs waiting for a worker
	submitted []threadJob   // jobs submitted during the current step
	running   int           // jobs handed out and not yet back

	goidsMu sync.Mutex      // guards goids
	goids   map[uint64]bool // the workers' goroutines, for Shutdown's check
}

// A poolWorker is one goroutine of the pool.
type poolWorker struct {
	l    *Loop
	word uint32        // atomic: workerIdle, workerSleeping, workerHasJob or workerQuit
	job  threadJob     // set by the loop before word becomes workerHasJob
	ch   chan struct{} // size 1: where it waits when the loop parks in the scheduler
	done threadJob     // the job it hands back; read by the loop in runOnLoop
}

const (
	workerIdle uint32 = iota
	workerSleeping
	workerHasJob
	workerQuit
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
	for i, j := range p.submitted {
		p.start(l, j)
		p.submitted[i] = nil
	}
	p.submitted = p.submitted[:0]
}

// start runs j on an idle worker, on a new worker if the pool may grow, or
// queues it.
func (p *threadPool) start(l *Loop, j threadJob) {
	switch {
	case len(p.idle) > 0:
		w := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.running++
		w.give(j)
	case len(p.workers) < p.max:
		w := &poolWorker{l: l, ch: make(chan struct{}, 1), job: j, word: workerHasJob}
		p.workers = append(p.workers, w)
		p.running++
		l.helpers.Add(1)
		go w.serve()
	default:
		p.queue = append(p.queue, j)
	}
}

// finished takes back a worker whose job came back: it gets the next queued
// job, or waits.
func (p *threadPool) finished(w *poolWorker) {
	p.running--
	if len(p.queue) > 0 {
		j := p.queue[0]
		n := copy(p.queue, p.queue[1:])
		p.queue[n] = nil
		p.queue = p.queue[:n]
		p.running++
		w.give(j)
		return
	}
	p.idle = append(p.idle, w)
}

// unqueue removes j if it has not started, and reports whether it did.
func (p *threadPool) unqueue(j threadJob) bool {
	for i, q := range p.submitted {
		if q == j {
			p.submitted = append(p.submitted[:i], p.submitted[i+1:]...)
			return true
		}
	}
	for i, q := range p.queue {
		if q == j {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			return true
		}
	}
	return false
}

// stop tells every worker to exit; the loop's teardown waits for them.
func (p *threadPool) stop() {
	for _, w := range p.workers {
		w.signal(workerQuit)
	}
	p.workers, p.idle = nil, nil
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
func (w *poolWorker) give(j threadJob) {
	w.job = j
	w.signal(workerHasJob)
}

func (w *poolWorker) signal(state uint32) {
	if atomic.SwapUint32(&w.word, state) == workerSleeping {
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

func (w *poolWorker) serve() {
	l := w.l
	defer l.helpers.Done()
	p := &l.threads
	id := goid.Get()
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
		case workerQuit:
			return
		case workerHasJob:
			j := w.job
			w.job = nil
			atomic.StoreUint32(&w.word, workerIdle)
			j.work()
			w.done = j
			l.inbox.post(w, false)
		}
	}
}

// wait blocks until the loop gives w a job or tells it to quit, and returns
// which. It spins first, for bursts of ToThread calls.
func (w *poolWorker) wait() uint32 {
	if s := atomic.LoadUint32(&w.word); s != workerIdle {
		return s
	}
	l := w.l
	if l.holdSlot() {
		l.spinFor(func() bool { return atomic.LoadUint32(&w.word) != workerIdle })
		l.releaseSlot()
	}
	for {
		s := atomic.LoadUint32(&w.word)
		if s == workerHasJob || s == workerQuit {
			return s
		}
		if haveFutex && !l.cfg.schedPark {
			if s == workerIdle && !atomic.CompareAndSwapUint32(&w.word, workerIdle, workerSleeping) {
				continue
			}
			futexWait(&w.word, workerSleeping, -1)
			continue
		}
		if s == workerIdle && !atomic.CompareAndSwapUint32(&w.word, workerIdle, workerSleeping) {
			continue
		}
		<-w.ch
	}
}

// runOnLoop hands the worker's finished job back to its task.
func (w *poolWorker) runOnLoop(l *Loop) {
	j := w.done
	w.done = nil
	l.threads.finished(w)
	j.complete(l)
}
