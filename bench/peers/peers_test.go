package peers_test

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// forEach runs test for every peer whose systems implement I, each with a
// fresh system that is closed at the end.
func forEach[I any](t *testing.T, test func(t *testing.T, sys I)) {
	t.Helper()
	ran := 0
	for _, p := range peers.All() {
		if !peers.Implements[I](p) {
			continue
		}
		ran++
		t.Run(p.Name, func(t *testing.T) {
			testkit.Check(t)
			sys, err := p.New()
			if err != nil {
				t.Fatalf("New() = %v; want nil", err)
			}
			defer func() {
				if err := sys.Close(); err != nil {
					t.Errorf("Close() = %v; want nil", err)
				}
			}()
			test(t, sys.(I))
		})
	}
	if ran == 0 {
		t.Fatal("no peer implements the interface under test")
	}
}

func TestAllNamesUnique(t *testing.T) {
	var names []string
	for _, p := range peers.All() {
		names = append(names, p.Name)
	}
	want := []string{peers.NameNaive, peers.NameChan, peers.NameMainThread, peers.NameGojaLoop,
		peers.NameGojaPromise, peers.NamePinned, peers.NameUnpinned, peers.NameLabels,
		peers.NameJS, peers.NameJSUnpinned, peers.NameGojaDirect, peers.NameJSPool1, peers.NameJSPool2}
	if !slices.Equal(names, want) {
		t.Errorf("All() names = %v; want %v", names, want)
	}
}

func TestCallCounts(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.System) {
		for want := 1; want <= 3; want++ {
			got, err := sys.Call()
			if got != want || err != nil {
				t.Fatalf("Call() = %d, %v; want %d, nil", got, err, want)
			}
		}
	})
}

func TestCallConcurrentLosesNothing(t *testing.T) {
	const callers, calls = 8, 50
	forEach(t, func(t *testing.T, sys peers.System) {
		var (
			mu   sync.Mutex
			seen []int
			wg   sync.WaitGroup
		)
		for range callers {
			wg.Go(func() {
				for range calls {
					v, err := sys.Call()
					if err != nil {
						t.Errorf("Call() = %d, %v; want nil error", v, err)
						return
					}
					mu.Lock()
					seen = append(seen, v)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(seen)
		for i, v := range seen {
			if v != i+1 {
				t.Fatalf("sorted results[%d] = %d; want %d (each count exactly once)", i, v, i+1)
			}
		}
		if len(seen) != callers*calls {
			t.Errorf("got %d results; want %d", len(seen), callers*calls)
		}
	})
}

func TestSubmitWait(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.Submitter) {
		for want := 1; want <= 3; want++ {
			got, err := sys.SubmitWait()
			if got != want || err != nil {
				t.Fatalf("SubmitWait() = %d, %v; want %d, nil", got, err, want)
			}
		}
	})
}

func TestStream(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.Streamer) {
		// Twice, across several buffers' worth: stopping the first stream
		// must leave the system able to serve the second.
		for _, n := range []int{3000, 1} {
			got, sum, err := sys.Stream(cases.Counter(n))
			if want := n * (n - 1) / 2; got != n || sum != want || err != nil {
				t.Errorf("Stream(%d) = %d, %d, %v; want %d, %d, nil", n, got, sum, err, n, want)
			}
		}
	})
}

func TestSpawnAwait(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.Spawner) {
		const n = 100
		got, err := sys.SpawnAwait(cases.Counter(n))
		if got != n || err != nil {
			t.Errorf("SpawnAwait(100 times) = %d, %v; want %d, nil", got, err, n)
		}
	})
}

func TestSleeps(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.Sleeper) {
		if err := sys.Sleeps(200, 20, 50*time.Microsecond); err != nil {
			t.Errorf("Sleeps() = %v; want nil", err)
		}
	})
}

func TestSuspendHoldsTasksDuringMeasure(t *testing.T) {
	const n = 500
	forEach(t, func(t *testing.T, sys peers.Suspender) {
		calls := 0
		err := sys.Suspend(n, func() {
			calls++
			switch s := sys.(type) {
			case *peers.Threadrunner:
				// Stats lags a busy loop by a few rounds: wait for it.
				l := s.Runner().Loop()
				deadline := time.Now().Add(10 * time.Second)
				for l.Stats().Tasks < n && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if got := l.Stats().Tasks; got < n {
					t.Errorf("live tasks during measure = %d; want >= %d", got, n)
				}
			case peers.Unlocked:
				if got := runtime.NumGoroutine(); got < n {
					t.Errorf("goroutines during measure = %d; want >= %d", got, n)
				}
			}
		})
		if err != nil || calls != 1 {
			t.Errorf("Suspend() = %v, with %d calls of measure; want nil, 1", err, calls)
		}
	})
}

func TestCallAfterClose(t *testing.T) {
	for _, p := range peers.All() {
		t.Run(p.Name, func(t *testing.T) {
			testkit.Check(t)
			sys, err := p.New()
			if err != nil {
				t.Fatalf("New() = %v; want nil", err)
			}
			if err := sys.Close(); err != nil {
				t.Fatalf("Close() = %v; want nil", err)
			}
			if _, err := sys.Call(); !errors.Is(err, peers.ErrClosed) && !errors.Is(err, aio.ErrClosed) {
				t.Errorf("Call() after Close = %v; want a closed error", err)
			}
		})
	}
}

func TestPostAndAfterFunc(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.Poster) {
		for range 3 {
			if err := sys.PostWait(); err != nil {
				t.Errorf("PostWait() = %v", err)
			}
			if err := sys.PostChan(); err != nil {
				t.Errorf("PostChan() = %v", err)
			}
		}
	})
	forEach(t, func(t *testing.T, sys peers.AfterFuncer) {
		if late, err := sys.AfterFunc(time.Millisecond); err != nil || late < 0 {
			t.Errorf("AfterFunc(1ms) ran %v late, %v; want >= 0, nil", late, err)
		}
	})
}

func TestTickAndSpawnMany(t *testing.T) {
	forEach(t, func(t *testing.T, sys peers.Ticker) {
		stop, err := sys.Tick(time.Millisecond)
		if err != nil {
			t.Fatalf("Tick() = %v", err)
		}
		time.Sleep(5 * time.Millisecond)
		stop()
	})
	forEach(t, func(t *testing.T, sys peers.MassSpawner) {
		if err := sys.SpawnMany(1000); err != nil {
			t.Errorf("SpawnMany(1000) = %v", err)
		}
	})
	forEach(t, func(t *testing.T, sys peers.Tracer) {
		if err := sys.Step(); err != nil {
			t.Errorf("Step() = %v", err)
		}
		if err := peers.WithTrace(sys.Step); err != nil {
			t.Errorf("Step() traced = %v", err)
		}
	})
}
