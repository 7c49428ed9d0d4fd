package js

import "github.com/threadrunner/threadrunner/aio"

// While a loop closes, it runs its close hooks first (a kept Resource's
// dispose among them: threadrunner's Keep exits through them), as tasks, and
// takes no new callbacks, timers or tasks from outside a task: Post,
// AfterFunc and Spawn fail with aio.ErrClosed. JavaScript that a dispose runs
// then may still set a timer or call a Go async function, and await it. So
// while the loop closes, those start as child tasks of the task of the entry
// that asks for them; such a child waits, before it ends, for the children
// it starts in turn (a timer set by a timer's callback), which a child of an
// ordinary task would not outlive.

// closing reports whether the loop has begun to close: it takes no new
// callbacks.
func (vm *VM) closing() bool { return vm.loop.Post(nop) != nil }

func nop() {}

// fallback starts body as a child task of t, the running task, for work the
// closing loop takes no other way, and returns its future.
func (vm *VM) fallback(t *aio.Task, body func(*aio.Task) (struct{}, error)) *aio.Future[struct{}] {
	if vm.kids == nil {
		vm.kids = make(map[*aio.Task][]*aio.Future[struct{}])
	}
	f := aio.Go(t, func(t *aio.Task) (struct{}, error) {
		defer vm.awaitKids(t)
		return body(t)
	})
	vm.kids[t] = append(vm.kids[t], f)
	return f
}

// awaitKids waits in t for the fallback children t started.
func (vm *VM) awaitKids(t *aio.Task) {
	for len(vm.kids[t]) > 0 {
		f := vm.kids[t][0]
		vm.kids[t] = vm.kids[t][1:]
		aio.Await(t, f)
	}
	delete(vm.kids, t)
}
