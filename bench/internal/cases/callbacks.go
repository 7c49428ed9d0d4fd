package cases

import (
	"math"
	"slices"
	"time"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// The cases of callbacks, timers and tracing: each against its peer in the
// same run.

// NsLate is the unit of how late a delayed call ran.
const NsLate = "ns late"

func callbackCases() []Case {
	return []Case{
		{Name: "post", Applies: peers.Implements[peers.Poster], Title: "a function on the loop, no task, waited for: Loop.Do (goja_nodejs: RunOnLoop + channel)", Unit: NsPerOp, ChanRef: "run", Measure: measurePost(peers.Poster.PostWait)},
		{Name: "post-chan", Applies: peers.Implements[peers.Poster], Title: "the same waited for on a channel: Loop.Post + channel receive", Unit: NsPerOp, ChanRef: "run", Measure: measurePost(peers.Poster.PostChan)},
		{Name: "afterfunc", Applies: peers.Implements[peers.AfterFuncer], Title: "AfterFunc(1ms): how late the call runs (time.AfterFunc, goja_nodejs SetTimeout)", Unit: NsLate, ChanRef: "afterfunc", Measure: measureAfterFunc},
		{Name: "timer-10ms", Applies: peers.Implements[peers.Ticker], Title: "CPU of a process whose only work is a 10 ms periodic timer", Unit: CPUMsPerSec, ChanRef: "timer-10ms", Measure: measureTicker(10 * time.Millisecond)},
		{Name: "timer-100ms", Applies: peers.Implements[peers.Ticker], Title: "CPU of a process whose only work is a 100 ms periodic timer", Unit: CPUMsPerSec, ChanRef: "timer-100ms", Measure: measureTicker(100 * time.Millisecond)},
		{Name: "spawn-100k", Applies: peers.Implements[peers.MassSpawner], Title: "start 100,000 tasks at once and await them, per task (goroutines)", Unit: NsPerOp, ChanRef: "spawn-100k", Measure: measureSpawnMany},
		{Name: "step", Applies: peers.Implements[peers.Tracer], Title: "a step: Run of a task that awaits a child (tracing off)", Unit: NsPerOp, Measure: measureStep(false)},
		{Name: "step-traced", Applies: peers.Implements[peers.Tracer], Title: "the same with runtime/trace on", Unit: NsPerOp, Measure: measureStep(true)},
		{Name: "run-traced", Applies: peers.Implements[peers.Tracer], Title: "round trip, 1 caller (Run), runtime/trace on", Unit: NsPerOp, Measure: measureRunTraced},
	}
}

func measurePost(post func(peers.Poster) error) func(peers.System, Config) (Sample, bool, error) {
	return func(sys peers.System, cfg Config) (Sample, bool, error) {
		p, ok := sys.(peers.Poster)
		if !ok {
			return Sample{}, false, nil
		}
		s, err := Timed(cfg.Duration, func(n int) error {
			for range n {
				if err := post(p); err != nil {
					return err
				}
			}
			return nil
		})
		return s, true, err
	}
}

// afterFuncSamples is how many delayed calls one AfterFunc measurement
// makes, one after another; it takes the median lateness.
const afterFuncSamples = 101

func measureAfterFunc(sys peers.System, cfg Config) (Sample, bool, error) {
	a, ok := sys.(peers.AfterFuncer)
	if !ok {
		return Sample{}, false, nil
	}
	n := afterFuncSamples
	if cfg.Duration < 50*time.Millisecond {
		n = 11 // quick mode
	}
	late := make([]float64, 0, n)
	for range n {
		d, err := a.AfterFunc(time.Millisecond)
		if err != nil {
			return Sample{}, true, err
		}
		late = append(late, float64(d.Nanoseconds()))
	}
	slices.Sort(late)
	return Sample{Value: late[len(late)/2], Allocs: math.NaN(), Ops: n}, true, nil
}

func measureTicker(period time.Duration) func(peers.System, Config) (Sample, bool, error) {
	return func(sys peers.System, cfg Config) (Sample, bool, error) {
		tk, ok := sys.(peers.Ticker)
		if !ok {
			return Sample{}, false, nil
		}
		stop, err := tk.Tick(period)
		if err != nil {
			return Sample{}, true, err
		}
		defer stop()
		time.Sleep(2 * period) // past the first ticks, and any spin after setting up
		window := cfg.IdleWindow
		if window >= 500*time.Millisecond {
			window = max(window, 10*period) // ten periods at least, but in quick mode
		}
		c0, err := processCPU()
		if err != nil {
			return Sample{}, true, err
		}
		t0 := time.Now()
		time.Sleep(window)
		c1, err := processCPU()
		el := time.Since(t0)
		v := float64(c1-c0) / float64(time.Millisecond) / el.Seconds()
		return Sample{Value: v, Allocs: math.NaN(), Ops: 1}, true, err
	}
}

// massSpawnN is how many tasks the spawn-100k case starts at once.
const massSpawnN = 100_000

func measureSpawnMany(sys peers.System, cfg Config) (Sample, bool, error) {
	m, ok := sys.(peers.MassSpawner)
	if !ok {
		return Sample{}, false, nil
	}
	n := massSpawnN
	if cfg.Duration < 50*time.Millisecond {
		n = 10_000 // quick mode
	}
	s, err := Timed(cfg.Duration, func(k int) error {
		for range k {
			if err := m.SpawnMany(n); err != nil {
				return err
			}
		}
		return nil
	})
	s.Value /= float64(n)
	s.Allocs /= float64(n)
	return s, true, err
}

func measureStep(traced bool) func(peers.System, Config) (Sample, bool, error) {
	return func(sys peers.System, cfg Config) (Sample, bool, error) {
		tr, ok := sys.(peers.Tracer)
		if !ok {
			return Sample{}, false, nil
		}
		var s Sample
		measure := func() (err error) {
			s, err = Timed(cfg.Duration, func(n int) error {
				for range n {
					if err := tr.Step(); err != nil {
						return err
					}
				}
				return nil
			})
			return err
		}
		var err error
		if traced {
			err = peers.WithTrace(measure)
		} else {
			err = measure()
		}
		return s, true, err
	}
}

func measureRunTraced(sys peers.System, cfg Config) (Sample, bool, error) {
	if _, ok := sys.(peers.Tracer); !ok {
		return Sample{}, false, nil
	}
	var s Sample
	err := peers.WithTrace(func() (err error) {
		s, _, err = measureRun(sys, cfg)
		return err
	})
	return s, true, err
}
