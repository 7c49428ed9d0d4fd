package threadrunner_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// where is what a task saw of the loop it ran on.
type where struct {
	loop *aio.Loop
	tid  int
}

func TestConcurrentFirstRunsStartOneLoop(t *testing.T) {
	leaktest.Check(t)
	const n = 32
	r := newRunner(t)
	ctx := testContext(t)

	// Every task waits on one event and bumps one counter, with no lock: if
	// two loops ran, the event would panic (it binds to the loop of its
	// first user) and the race detector would flag the counter.
	var (
		arrived int
		ev      aio.Event
	)
	start := make(chan struct{})
	got := make(chan where, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			w, err := threadrunner.Run(ctx, r, func(t *aio.Task) (where, error) {
				arrived++
				if err := ev.Wait(t); err != nil {
					return where{}, err
				}
				return where{t.Loop(), threadID()}, nil
			})
			if err != nil {
				t.Errorf("Run() = %v; want nil", err)
			}
			got <- w
		})
	}
	close(start)
	// All n tasks are live on one loop at once.
	waitFor(t, "n tasks on the loop", func() bool { return r.Loop().Stats().Tasks == n })
	released, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) {
		ev.Set()
		return arrived, nil
	})
	if err != nil || released != n {
		t.Errorf("Run(release) = %d, %v; want %d tasks arrived, nil", released, err, n)
	}
	wg.Wait()
	close(got)
	l := r.Loop()
	for w := range got {
		if w.loop != l || w.tid != l.ThreadID() {
			t.Errorf("a first call ran on loop %v, thread %d; want %v, thread %d", w.loop, w.tid, l, l.ThreadID())
		}
	}
}

// firstCalls are the entry points that may start a runner's loop, each
// reporting the loop its work ran on.
var firstCalls = []struct {
	name string
	call func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error)
}{
	{"Run", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		return threadrunner.Run(ctx, r, func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil })
	}},
	{"Submit", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		return threadrunner.Submit(ctx, r, func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }).Wait(ctx)
	}},
	{"With", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		var l *aio.Loop
		res := aio.ResourceFunc(func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }, nil)
		err := threadrunner.With(ctx, r, res, func(got *aio.Loop) error {
			l = got
			return nil
		})
		return l, err
	}},
	{"Open", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		res := aio.ResourceFunc(func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }, nil)
		l, release, err := threadrunner.Open(ctx, r, res)
		if err != nil {
			return nil, err
		}
		return l, release(nil)
	}},
	{"Keep", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		res := aio.ResourceFunc(func(t *aio.Task) (*aio.Loop, error) { return t.Loop(), nil }, nil)
		return threadrunner.Keep(ctx, r, res)
	}},
	{"Iter", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		seq := func(t *aio.Task, yield func(*aio.Loop) bool) error {
			yield(t.Loop())
			return nil
		}
		var l *aio.Loop
		for got, err := range threadrunner.Iter(ctx, r, seq) {
			if err != nil {
				return nil, err
			}
			l = got
		}
		return l, nil
	}},
	{"Loop", func(ctx context.Context, r *threadrunner.Runner) (*aio.Loop, error) {
		return r.Loop(), nil
	}},
}

func TestConcurrentFirstCallsOfEveryKindStartOneLoop(t *testing.T) {
	for round := range 4 { // the race is won by a different call each time
		t.Run(fmt.Sprint("round", round), func(t *testing.T) { firstCallsRound(t) })
	}
}

// firstCallsRound makes every kind of first call at once on a new runner
// and checks that they all ran on its one loop.
func firstCallsRound(t *testing.T) {
	leaktest.Check(t)
	r := newRunner(t)
	ctx := testContext(t)
	start := make(chan struct{})
	loops := make([]*aio.Loop, 2*len(firstCalls))
	var wg sync.WaitGroup
	for i := range loops {
		tt := firstCalls[i%len(firstCalls)]
		wg.Go(func() {
			<-start
			l, err := tt.call(ctx, r)
			if err != nil {
				t.Errorf("%s() = %v; want nil", tt.name, err)
			}
			loops[i] = l
		})
	}
	close(start)
	wg.Wait()
	want := r.Loop()
	for i, l := range loops {
		if l != want {
			t.Errorf("first %s ran on loop %v; want %v, the runner's only loop", firstCalls[i%len(firstCalls)].name, l, want)
		}
	}
}
