package bench_test

import (
	"testing"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
)

// The JavaScript benchmarks: package js (tr-js) against goja_nodejs
// (goja-promise) and goja called directly (goja-direct). Calling a trivial
// async function from Go is BenchmarkRun and BenchmarkRun8 of those peers.

// BenchmarkJSAwaitGo is an async JavaScript function, called from Go, that
// awaits an async function written in Go.
func BenchmarkJSAwaitGo(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.AwaitGoer) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if v, err := sys.AwaitGo(i); err != nil || v != i+1 {
				b.Fatalf("AwaitGo(%d) = %d, %v", i, v, err)
			}
			i++
		}
	})
}

// timeoutBatch is how many timers one op of BenchmarkJSTimeout sets at once.
const timeoutBatch = 1000

// BenchmarkJSTimeout is setTimeout(cb, 1) fired, 1000 set at once per op;
// it also reports ns/timer.
func BenchmarkJSTimeout(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.TimeoutSetter) {
		b.ReportAllocs()
		ops := 0
		for b.Loop() {
			if err := sys.Timeouts(timeoutBatch); err != nil {
				b.Fatal(err)
			}
			ops++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*timeoutBatch), "ns/timer")
	})
}

// BenchmarkJSIter is one item of a JavaScript async iterator consumed from
// Go (threadrunner.Iter over js.Iter; goja-direct calls next itself).
func BenchmarkJSIter(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.JSIterator) {
		b.ReportAllocs()
		n, sum, err := sys.IterJS(b.Loop)
		if err != nil {
			b.Fatal(err)
		}
		if want := n * (n - 1) / 2; sum != want {
			b.Fatalf("IterJS() sum of %d values = %d; want %d", n, sum, want)
		}
	})
}

// BenchmarkJSPending reports the memory held per goroutine waiting for a
// pending JavaScript promise, 1,000 at once.
func BenchmarkJSPending(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.PendingAwaiter) {
		var total float64
		ops := 0
		for b.Loop() {
			v, err := cases.SuspendedBytes(suspender{sys}, 1000)
			if err != nil {
				b.Fatal(err)
			}
			total += v
			ops++
		}
		b.ReportMetric(total/float64(ops), "bytes/await")
	})
}

type suspender struct{ p peers.PendingAwaiter }

func (s suspender) Suspend(n int, measure func()) error { return s.p.Pending(n, measure) }

// BenchmarkJSPoolHTTP is one HTTP page rendered in JavaScript through a
// pool of 1 or 2 loops, 16 loopback clients at once; it reports requests/s.
func BenchmarkJSPoolHTTP(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Loader) {
		b.ReportAllocs()
		n := b.N
		if err := sys.Load(n, min(n, 16)); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "requests/s")
	})
}
