package js

import (
	"math"
	"slices"
	"time"

	"github.com/dop251/goja"
	"github.com/threadrunner/threadrunner/aio"
)

// A timer is one setTimeout or setInterval call, armed on the loop's timer
// heap with aio.Loop.AfterFunc. Loop-owned.
type timer struct {
	id       int64
	fn       goja.Callable
	args     []goja.Value
	interval time.Duration // setInterval's period; 0 for setTimeout
	stop     func() bool   // stops the pending AfterFunc
}

// timers are the VM's pending timers, by id. Loop-owned.
type timers struct {
	last int64
	m    map[int64]*timer
}

// installTimers defines setTimeout, setInterval, clearTimeout and
// clearInterval. A delay is in milliseconds, as in browsers and Node; one
// that is not a positive number means 0, which runs the callback on the
// loop's next round. The timers return numeric ids. A callback's uncaught
// error is reported as unhandled rejections are (see [OnRejection]).
func (vm *VM) installTimers() {
	rt := vm.rt
	set := func(repeat bool) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(c.Argument(0))
			if !ok {
				panic(rt.NewTypeError("the callback of a timer must be a function"))
			}
			d := delay(c.Argument(1))
			tm := &timer{fn: fn, args: slices.Clone(c.Arguments[min(2, len(c.Arguments)):])}
			if repeat {
				tm.interval = max(d, time.Millisecond) // a zero period would hold the loop
			}
			return rt.ToValue(vm.timers.add(vm, tm, d))
		}
	}
	clearTimer := func(c goja.FunctionCall) goja.Value {
		vm.timers.clear(c.Argument(0).ToInteger())
		return goja.Undefined()
	}
	rt.Set("setTimeout", set(false))
	rt.Set("setInterval", set(true))
	rt.Set("clearTimeout", clearTimer)
	rt.Set("clearInterval", clearTimer)
}

// delay converts a timer's delay argument, in milliseconds, to a duration.
func delay(v goja.Value) time.Duration {
	ms := v.ToFloat()
	if math.IsNaN(ms) || ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, float64(math.MaxInt64/int64(time.Millisecond))) * float64(time.Millisecond))
}

// add arms tm to fire after d and returns its id.
func (ts *timers) add(vm *VM, tm *timer, d time.Duration) int64 {
	if ts.m == nil {
		ts.m = make(map[int64]*timer)
	}
	ts.last++
	tm.id = ts.last
	ts.m[tm.id] = tm
	vm.arm(vm.entryTask(), tm, d)
	return tm.id
}

// arm schedules tm's next call, after d: on the loop's timer heap, or, while
// the loop is closing, in a child task of t, the task of the entry that sets
// the timer, if there is one (see closing.go).
func (vm *VM) arm(t *aio.Task, tm *timer, d time.Duration) {
	if t != nil && vm.closing() {
		f := vm.fallback(t, func(t *aio.Task) (struct{}, error) {
			if aio.Sleep(t, d) == nil {
				vm.fire(t, tm)
			}
			return struct{}{}, nil
		})
		tm.stop = func() bool {
			pending := !f.Settled()
			f.Cancel()
			return pending
		}
		return
	}
	tm.stop = vm.loop.AfterFunc(d, func() { vm.fire(nil, tm) })
}

// clear stops the timer id, if it is pending.
func (ts *timers) clear(id int64) {
	if tm, ok := ts.m[id]; ok {
		tm.stop()
		delete(ts.m, id)
	}
}

// stopAll stops every pending timer: the VM is closing.
func (ts *timers) stopAll() {
	for id, tm := range ts.m {
		tm.stop()
		delete(ts.m, id)
	}
}

// fire runs tm's callback, as a callback of the loop or in t, the task of
// arm's fallback. An interval is armed again first, so that clearInterval
// inside the callback stops it.
func (vm *VM) fire(t *aio.Task, tm *timer) {
	if vm.closed.Load() || vm.timers.m[tm.id] != tm {
		return // cleared, or the VM closed, after the call was due
	}
	if tm.interval > 0 {
		vm.arm(t, tm, tm.interval)
	} else {
		delete(vm.timers.m, tm.id)
	}
	err := vm.run(t, vm.ctx, func() error {
		_, err := tm.fn(goja.Undefined(), tm.args...)
		return err
	})
	if err != nil {
		vm.logError("uncaught error in a timer callback", err)
	}
}
