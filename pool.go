package threadrunner

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/errs"
)

// A Pool is n runners, each with a loop of its own and its own copy of a
// per-loop resource: the scale axis for engines that are single-threaded per
// instance, such as one JavaScript VM per loop. One loop saturates one
// thread; a pool spreads calls over n. [Use] lends the least busy runner
// (the one with the fewest calls in flight through the pool), [UseKey] the
// runner a key maps to, so that calls about one thing stay on one loop;
// [Pool.Close] closes them all. tokio-util's LocalPoolHandle is the model.
//
// A Pool is made by [NewPool] and starts nothing: each runner starts, and
// enters its resource, on its first use. It is safe for use by any number of
// goroutines at once, and must not be copied.
type Pool[R any] struct {
	members []*member[R]
	res     func() aio.Resource[R]
	seed    maphash.Seed  // maps keys to members, for the pool's life
	next    atomic.Uint32 // where Use starts looking, so that ties rotate
	closed  atomic.Bool
}

// A member is one runner of a pool and its copy of the resource.
type member[R any] struct {
	r    *Runner
	busy atomic.Int64 // calls in flight through Use and UseKey

	entering chan struct{} // size 1: held while entering the resource, so that it is entered once
	entered  atomic.Bool   // v is set; written while holding entering
	v        R
}

// NewPool returns a pool of n runners configured by opts (see [aio.Option];
// each loop is named "pool-i" unless opts name them). n < 1 means
// runtime.GOMAXPROCS(0). res makes one copy of the resource (it is called
// for each runner, and again if entering a copy failed); each runner enters
// its copy with [Keep] on first use, so it lives until Close. A nil res
// makes a pool of plain runners, whose resource is R's zero value.
func NewPool[R any](n int, res func() aio.Resource[R], opts ...aio.Option) *Pool[R] {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool[R]{res: res, seed: maphash.MakeSeed(), members: make([]*member[R], n)}
	for i := range p.members {
		o := append([]aio.Option{aio.Name(fmt.Sprintf("pool-%d", i))}, opts...)
		p.members[i] = &member[R]{r: New(o...), entering: make(chan struct{}, 1)}
	}
	return p
}

// Size returns the number of runners in the pool.
func (p *Pool[R]) Size() int { return len(p.members) }

// Runner returns the pool's i-th runner, 0 <= i < Size, for diagnostics;
// calls made on it directly do not count as busy. It panics if i is out of
// range.
func (p *Pool[R]) Runner(i int) *Runner { return p.members[i].r }

// Use calls fn in the calling goroutine with the least busy runner of p and
// its copy of the resource, entering that copy first if this is the
// runner's first use, and returns what fn returns. The runner counts as busy
// until fn returns. Typically fn calls [Run] (or a JavaScript call) with
// them. If entering the resource fails, Use returns the error without
// calling fn. A panic in fn goes on in the caller.
//
// Use is safe to call from any number of goroutines at once. After Close it
// returns [aio.ErrClosed]; with a nil fn or ctx, [aio.ErrInvalid].
func Use[T, R any](ctx context.Context, p *Pool[R], fn func(r *Runner, v R) (T, error)) (T, error) {
	if err := p.check(ctx, fn == nil); err != nil {
		var zero T
		return zero, err
	}
	return use(ctx, p, p.leastBusy(), fn)
}

// UseKey is [Use] with the runner that key maps to rather than the least
// busy one: calls with equal keys always go to the same runner, for the
// pool's life, so state a key owns can live in that runner's loop.
func UseKey[T, R any, K comparable](ctx context.Context, p *Pool[R], key K, fn func(r *Runner, v R) (T, error)) (T, error) {
	if err := p.check(ctx, fn == nil); err != nil {
		var zero T
		return zero, err
	}
	i := maphash.Comparable(p.seed, key) % uint64(len(p.members))
	return use(ctx, p, p.members[i], fn)
}

func use[T, R any](ctx context.Context, p *Pool[R], m *member[R], fn func(r *Runner, v R) (T, error)) (T, error) {
	m.busy.Add(1)
	defer m.busy.Add(-1)
	v, err := m.value(ctx, p.res)
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(m.r, v)
}

func (p *Pool[R]) check(ctx context.Context, nilFn bool) error {
	switch {
	case p == nil:
		return errs.Invalid("threadrunner: nil *Pool")
	case ctx == nil:
		return errs.Invalid("threadrunner: Use with a nil context")
	case nilFn:
		return errs.Invalid("threadrunner: Use with a nil function")
	case p.closed.Load():
		return aio.ErrClosed
	}
	return nil
}

// leastBusy returns the member with the fewest calls in flight, starting
// the search one further each time so that ties spread over the pool.
func (p *Pool[R]) leastBusy() *member[R] {
	n := len(p.members)
	start := int(p.next.Add(1) % uint32(n))
	best := p.members[start]
	low := best.busy.Load()
	for i := 1; i < n && low > 0; i++ {
		m := p.members[(start+i)%n]
		if b := m.busy.Load(); b < low {
			best, low = m, b
		}
	}
	return best
}

// value returns the member's copy of the resource, entering it on first use.
// A failed entry is tried again by the next call. Callers that come while
// another enters wait for it, or for their ctx's end.
func (m *member[R]) value(ctx context.Context, res func() aio.Resource[R]) (R, error) {
	if m.entered.Load() || res == nil {
		return m.v, nil
	}
	select {
	case m.entering <- struct{}{}:
		defer func() { <-m.entering }()
	case <-ctx.Done():
		var zero R // m.v is the entering call's to write
		return zero, ctx.Err()
	}
	if m.entered.Load() {
		return m.v, nil
	}
	v, err := Keep(ctx, m.r, res())
	if err != nil {
		return v, err
	}
	m.v = v
	m.entered.Store(true)
	return v, nil
}

// Close closes every runner of the pool, at once, and waits until they have
// shut down (see [Runner.Close]): each exits its copy of the resource. It
// returns the runners' errors, joined. Close is idempotent. Called from the
// thread of one of the pool's loops, it returns [aio.ErrLoopThread] and
// closes nothing. Close implements io.Closer.
func (p *Pool[R]) Close() error { return p.Shutdown(context.Background()) }

// Shutdown is [Pool.Close] bounded by ctx, as [Runner.Shutdown] is.
func (p *Pool[R]) Shutdown(ctx context.Context) error {
	if p == nil {
		return errs.Invalid("threadrunner: nil *Pool")
	}
	for _, m := range p.members {
		if l := m.r.loop.Load(); l != nil && l.InLoop() {
			return aio.ErrLoopThread
		}
	}
	p.closed.Store(true)
	closed := make([]error, len(p.members))
	var wg sync.WaitGroup
	for i, m := range p.members {
		wg.Go(func() { closed[i] = m.r.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(closed...)
}
