package bench_test

import (
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
)

// The benchmarks of callbacks, timers and tracing, the report's cases of
// the same names (internal/cases/callbacks.go), each against its peer.

// BenchmarkPost is a trivial function run on the loop without a task and
// waited for: aio.Loop.Do; for goja_nodejs, RunOnLoop and a channel.
func BenchmarkPost(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Poster) {
		b.ReportAllocs()
		for b.Loop() {
			if err := sys.PostWait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPostChan is the same waited for on a channel the function sends
// on: aio.Loop.Post for threadrunner, RunOnLoop for goja_nodejs.
func BenchmarkPostChan(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.Poster) {
		b.ReportAllocs()
		for b.Loop() {
			if err := sys.PostChan(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAfterFunc is a call after 1ms (aio.Loop.AfterFunc,
// time.AfterFunc, goja_nodejs SetTimeout), one after another; it reports
// how late each ran, on average, as ns-late.
func BenchmarkAfterFunc(b *testing.B) {
	forEach(b, func(b *testing.B, sys peers.AfterFuncer) {
		var late time.Duration
		ops := 0
		for b.Loop() {
			d, err := sys.AfterFunc(time.Millisecond)
			if err != nil {
				b.Fatal(err)
			}
			late += d
			ops++
		}
		b.ReportMetric(float64(late.Nanoseconds())/float64(ops), "ns-late")
	})
}

// BenchmarkTimerIdle is the CPU time of the whole process, in ms per
// second, while its only work is one periodic timer (a task in aio.Sleep; a
// goroutine in time.Sleep; goja_nodejs's setInterval), over a window of
// 25 periods per op at 10ms and of 10 periods at 100ms (the report's window
// is one second, or ten periods, whichever is longer).
func BenchmarkTimerIdle(b *testing.B) {
	for _, v := range []struct {
		name   string
		window time.Duration
	}{{"timer-10ms", 250 * time.Millisecond}, {"timer-100ms", time.Second}} {
		c := findCase(b, v.name)
		cfg := cases.DefaultConfig()
		cfg.IdleWindow = v.window
		b.Run(v.name, func(b *testing.B) {
			forEach(b, func(b *testing.B, sys peers.Ticker) {
				var total float64
				ops := 0
				for b.Loop() {
					s, _, err := c.Measure(sys.(peers.System), cfg)
					if err != nil {
						b.Fatal(err)
					}
					total += s.Value
					ops++
				}
				b.ReportMetric(total/float64(ops), "cpu-ms/s")
			})
		})
	}
}

// BenchmarkSpawn100k starts 100,000 trivial tasks at once and awaits them
// all (goroutines for the channel peers); it reports ns/task.
func BenchmarkSpawn100k(b *testing.B) {
	const n = 100_000
	forEach(b, func(b *testing.B, sys peers.MassSpawner) {
		b.ReportAllocs()
		ops := 0
		for b.Loop() {
			if err := sys.SpawnMany(n); err != nil {
				b.Fatal(err)
			}
			ops++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*n), "ns/task")
	})
}

// BenchmarkStep is a Run of a task that awaits a child, with Go's execution
// tracer off and on (peers.WithTrace writes the trace to io.Discard), and
// with ProfileLabels (the tr-labels system): what tracing and labels cost a
// step.
func BenchmarkStep(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "trace-off"
		if traced {
			name = "trace-on"
		}
		b.Run(name, func(b *testing.B) {
			forEach(b, func(b *testing.B, sys peers.Tracer) {
				b.ReportAllocs()
				loop := func() error {
					for b.Loop() {
						if err := sys.Step(); err != nil {
							return err
						}
					}
					return nil
				}
				var err error
				if traced {
					err = peers.WithTrace(loop)
				} else {
					err = loop()
				}
				if err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// findCase returns the report's case of that name.
func findCase(b *testing.B, name string) cases.Case {
	for _, c := range cases.All() {
		if c.Name == name {
			return c
		}
	}
	b.Fatalf("no case %q", name)
	return cases.Case{}
}
