package js

// This file stands in for core APIs that are landing on main (aio.NoAwait,
// aio.Shield, aio.Loop.AfterFunc); it goes away with the merge that brings them.

import "github.com/threadrunner/threadrunner/aio"

func noAwait(t *aio.Task, fn func()) { fn() }

func (vm *VM) cleanup(t *aio.Task, fn func(*aio.Task) error) error { return fn(t) }

func (vm *VM) installTimers() {}

type timers struct{}

func (timers) stopAll() {}
