package aio_test

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

func one(*aio.Task) (int, error) { return 1, nil }

// BenchmarkCall measures a round trip from a goroutine to the loop and back.
func BenchmarkCall(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []aio.Option
	}{
		{"pinned", nil},
		{"unpinned", []aio.Option{aio.Unpinned()}},
		{"pinned/no spin", []aio.Option{aio.Spin(0)}},
		{"pinned/park in runtime", []aio.Option{aio.ParkInRuntime()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := startLoop(b, bc.opts...)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := aio.Call(ctx, l, one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCallConcurrent measures Call from 8 goroutines at once: ns/op is
// per call, over all of them.
func BenchmarkCallConcurrent(b *testing.B) {
	const callers = 8
	l := startLoop(b)
	ctx := context.Background()
	b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := aio.Call(ctx, l, one); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSpawnWait measures Spawn then Future.Wait from a goroutine.
func BenchmarkSpawnWait(b *testing.B) {
	l := startLoop(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aio.Spawn(ctx, l, one).Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpawnBurst measures Spawn throughput: many in flight, waited for
// in batches.
func BenchmarkSpawnBurst(b *testing.B) {
	l := startLoop(b)
	ctx := context.Background()
	const burst = 256
	futures := make([]*aio.Future[int], 0, burst)
	b.ReportAllocs()
	for b.Loop() {
		futures = append(futures, aio.Spawn(ctx, l, one))
		if len(futures) == burst {
			for _, f := range futures {
				f.Wait(ctx)
			}
			futures = futures[:0]
		}
	}
	for _, f := range futures {
		f.Wait(ctx)
	}
}

// BenchmarkGoAwait measures starting a child task and awaiting it, on the
// loop: no thread hop.
func BenchmarkGoAwait(b *testing.B) {
	l := startLoop(b)
	b.ReportAllocs()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		for b.Loop() {
			if _, err := aio.Await(t, aio.Go(t, one)); err != nil {
				b.Error(err)
				break
			}
		}
		return 0, nil
	})
}

// BenchmarkSleep measures Sleep(0) (a yield: one coroutine switch each way)
// and Sleep(1ns) (a timer armed and fired).
func BenchmarkSleep(b *testing.B) {
	for _, bc := range []struct {
		name string
		d    time.Duration
	}{{"yield", 0}, {"timer", time.Nanosecond}} {
		b.Run(bc.name, func(b *testing.B) {
			l := startLoop(b)
			b.ReportAllocs()
			aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
				for b.Loop() {
					if err := aio.Sleep(t, bc.d); err != nil {
						b.Error(err)
						break
					}
				}
				return 0, nil
			})
		})
	}
}

// BenchmarkTimerChurn measures many tasks each sleeping a short, different
// time: timers armed, fired and woken in bulk. One op is one Sleep.
func BenchmarkTimerChurn(b *testing.B) {
	l := startLoop(b)
	const sleepers = 100
	b.ReportAllocs()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		n := 0
		for b.Loop() {
			n++
			if n%sleepers != 0 {
				continue
			}
			g := aio.NewGroup(t)
			for i := range sleepers {
				g.Go(func(t *aio.Task) error { return aio.Sleep(t, time.Duration(i)*time.Microsecond) })
			}
			if err := g.Wait(); err != nil {
				b.Error(err)
				break
			}
		}
		return 0, nil
	})
}

// BenchmarkToThread measures a ToThread round trip from a task.
func BenchmarkToThread(b *testing.B) {
	l := startLoop(b)
	fn := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	aio.Call(context.Background(), l, func(t *aio.Task) (int, error) {
		for b.Loop() {
			if _, err := aio.ToThread(t, fn); err != nil {
				b.Error(err)
				break
			}
		}
		return 0, nil
	})
}

// BenchmarkStream measures a Stream's throughput: one op is one value read
// by a goroutine off the loop, and items/s is reported.
func BenchmarkStream(b *testing.B) {
	l := startLoop(b)
	ctx := context.Background()
	gen := func(t *aio.Task, yield func(int) bool) error {
		for i := 0; yield(i); i++ {
		}
		return nil
	}
	s := aio.OpenStream(ctx, l, gen)
	defer s.Close()
	var batch []int
	b.ReportAllocs()
	for b.Loop() {
		if len(batch) == 0 {
			var err error
			if batch, err = s.Next(ctx); err != nil {
				if err == io.EOF {
					b.Fatal("stream ended")
				}
				b.Fatal(err)
			}
		}
		batch = batch[1:]
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
