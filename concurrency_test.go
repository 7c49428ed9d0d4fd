package threadrunner_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// TestManyGoroutinesOneRunner has 64 goroutines use one runner at once, each
// with values of its own, and checks that every result comes back to the
// goroutine that asked, and that tasks share loop-owned state without a lock
// (the race detector would see two tasks touch it at once).
func TestManyGoroutinesOneRunner(t *testing.T) {
	leaktest.Check(t)
	const (
		goroutines = 64
		rounds     = 10
	)
	r := threadrunner.New()
	ctx := testContext(t)
	tid := loopTID(t, r)

	calls := make(map[int]int) // goroutine -> tasks run for it; loop-owned
	offLoop := 0               // tasks seen off the loop's thread; loop-owned
	note := func(g int) {
		calls[g]++
		if threadID() != tid {
			offLoop++
		}
	}
	kept := make([]*probe, goroutines)

	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			kept[g] = &probe{name: fmt.Sprint("kept", g)}
			if v, err := threadrunner.Keep(ctx, r, kept[g]); v != kept[g] || err != nil {
				t.Errorf("goroutine %d: Keep() = %v, %v; want its own resource, nil", g, v, err)
			}
			for i := range rounds {
				want := g*1000 + i
				v, err := threadrunner.Run(ctx, r, func(*aio.Task) (int, error) {
					note(g)
					return want, nil
				})
				if v != want || err != nil {
					t.Errorf("goroutine %d: Run() = %v, %v; want %v, nil", g, v, err, want)
				}

				f := threadrunner.Submit(ctx, r, func(t *aio.Task) (int, error) {
					note(g)
					if err := aio.Sleep(t, 0); err != nil { // let the others in
						return 0, err
					}
					return -want, nil
				})
				if v, err := f.Wait(ctx); v != -want || err != nil {
					t.Errorf("goroutine %d: Submit().Wait() = %v, %v; want %v, nil", g, v, err, -want)
				}

				res := aio.ResourceFunc(func(*aio.Task) (int, error) {
					note(g)
					return want, nil
				}, func(_ *aio.Task, v int, _ error) error {
					note(g)
					if v != want {
						return fmt.Errorf("Exit got %d; want %d", v, want)
					}
					return nil
				})
				err = threadrunner.With(ctx, r, res, func(v int) error {
					if v != want {
						return fmt.Errorf("body got %d; want %d", v, want)
					}
					return nil
				})
				if err != nil {
					t.Errorf("goroutine %d: With() = %v; want nil", g, err)
				}

				gen := func(t *aio.Task, yield func(int) bool) error {
					note(g)
					for k := range 5 {
						if !yield(want*10 + k) {
							return nil
						}
						if err := aio.Sleep(t, 0); err != nil {
							return err
						}
					}
					return nil
				}
				k := 0
				for v, err := range threadrunner.Iter(ctx, r, gen, threadrunner.BatchSize(2)) {
					if v != want*10+k || err != nil {
						t.Errorf("goroutine %d: Iter yielded %v, %v; want %v, nil", g, v, err, want*10+k)
					}
					k++
				}
				if k != 5 {
					t.Errorf("goroutine %d: Iter yielded %d values; want 5", g, k)
				}
			}
		})
	}
	close(start)
	wg.Wait()

	got, err := threadrunner.Run(ctx, r, func(*aio.Task) (map[int]int, error) {
		c := make(map[int]int, len(calls))
		for g, n := range calls {
			c[g] = n
		}
		return c, nil
	})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	const perRound = 5 // Run, Submit, Enter, Exit, generator
	for g := range goroutines {
		if got[g] != rounds*perRound {
			t.Errorf("goroutine %d: %d tasks ran for it; want %d", g, got[g], rounds*perRound)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	if offLoop != 0 {
		t.Errorf("%d task steps ran off the loop's thread; want 0", offLoop)
	}
	for _, p := range kept {
		p.checkOnce(t, tid, nil)
	}
}
