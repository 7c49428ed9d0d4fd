package bench_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
)

// forEach runs bench as a sub-benchmark for every peer that implements I,
// each time with a fresh system, closed at the end.
func forEach[I any](b *testing.B, bench func(b *testing.B, sys I)) {
	for _, p := range peers.All() {
		if !peers.Implements[I](p) {
			continue // no equivalent
		}
		b.Run(p.Name, func(b *testing.B) {
			sys, err := p.New()
			if err != nil {
				b.Fatalf("%s: New() = %v", p.Name, err)
			}
			defer func() {
				if err := sys.Close(); err != nil {
					b.Errorf("%s: Close() = %v; want nil", p.Name, err)
				}
			}()
			bench(b, sys.(I))
		})
	}
}

// BenchmarkRun is one round trip from one caller: threadrunner.Run, and each
// peer's way of running a function on its thread and waiting for it.
func BenchmarkRun(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.System) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sys.Call(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRun8 is round trips from 8 goroutines at once (GOMAXPROCS times
// the parallelism, rounded up: 8 on 1, 2, 4 or 8 Ps); ns/op is the aggregate
// time per call.
func BenchmarkRun8(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	forEach(b, func(b *testing.B, sys peers.System) {
		b.ReportAllocs()
		b.SetParallelism((8 + procs - 1) / procs)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := sys.Call(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkSubmitWait is threadrunner.Submit followed by Future.Wait.
func BenchmarkSubmitWait(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Submitter) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sys.SubmitWait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIter is the cost per item of ranging over values produced on the
// loop (threadrunner.Iter), against a buffered channel fed by the peers'
// goroutine. It reports items/s.
func BenchmarkIter(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Streamer) {
		b.ReportAllocs()
		n, sum, err := sys.Stream(b.Loop)
		if err != nil {
			b.Fatal(err)
		}
		if want := n * (n - 1) / 2; sum != want {
			b.Fatalf("Stream() sum of %d values = %d; want %d", n, sum, want)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	})
}

// BenchmarkSpawnAwait is starting a child task and awaiting it inside one
// task on the loop (aio.Go + aio.Await); for the peers, a goroutine and a
// channel, or an awaited async JavaScript function.
func BenchmarkSpawnAwait(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Spawner) {
		b.ReportAllocs()
		if _, err := sys.SpawnAwait(b.Loop); err != nil {
			b.Fatal(err)
		}
	})
}

// sleepChunk is the number of sleeps per operation of BenchmarkSleepChurn.
const sleepChunk = 10_000

// BenchmarkSleepChurn is 1000 tasks sleeping random durations under 100µs
// (aio.Sleep; time.Sleep in goroutines for the peer). One op is 10,000
// sleeps; it also reports ns/sleep.
func BenchmarkSleepChurn(b *testing.B) {
	cfg := cases.DefaultConfig()
	forEach(b, func(b *testing.B, sys peers.Sleeper) {
		b.ReportAllocs()
		ops := 0
		for b.Loop() {
			if err := sys.Sleeps(sleepChunk, cfg.SleepTasks, cfg.SleepMax); err != nil {
				b.Fatal(err)
			}
			ops++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*sleepChunk), "ns/sleep")
	})
}

// maxSuspended is the number of tasks BenchmarkSuspended holds at once.
const maxSuspended = 100_000

// BenchmarkSuspended holds up to 100,000 suspended tasks at once (goroutines
// blocked on a channel, async JavaScript functions awaiting a promise) and
// reports the memory they hold, heap and stacks after a collection, per
// task. One op is one task; b.N tasks are suspended in batches of between
// 1,000 and 100,000, so that -benchtime=1x stays quick.
func BenchmarkSuspended(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Suspender) {
		var bytes float64
		for left := b.N; left > 0; {
			n := min(max(left, 1000), maxSuspended)
			v, err := cases.SuspendedBytes(sys, n)
			if err != nil {
				b.Fatal(err)
			}
			bytes += v * float64(n)
			left -= n
		}
		b.ReportMetric(bytes/float64(max(b.N, 1000)), "bytes/task")
	})
}

// idleWindow is the idle time one operation of BenchmarkIdle measures. It is
// shorter than the report's idle second, to keep -benchtime=1x quick: a cost
// paid once after the last piece of work weighs 4 times more here.
const idleWindow = 250 * time.Millisecond

// BenchmarkIdle measures the CPU time of the whole process while a system
// that just did 1000 round trips sits idle, in milliseconds per second.
func BenchmarkIdle(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.System) {
		var total float64
		ops := 0
		for b.Loop() {
			v, err := cases.IdleCPU(sys.Call, 1000, idleWindow)
			if err != nil {
				b.Fatal(err)
			}
			total += v
			ops++
		}
		b.ReportMetric(total/float64(ops), "cpu-ms/s")
	})
}
