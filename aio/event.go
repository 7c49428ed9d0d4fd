package aio

// An Event is a flag that tasks of one loop can wait for (asyncio.Event). Its
// zero value is a usable, unset event bound to the loop of the first task that
// uses it. An Event must not be copied after first use.
type Event struct {
	b       loopBinding
	set     bool
	waiters waitList
}

// Set sets the event and wakes every task waiting for it. It must be called
// from a task of the event's loop.
func (e *Event) Set() {
	e.b.mustOnLoop("Event.Set")
	e.set = true
	e.waiters.wakeAll()
}

// Clear unsets the event.
func (e *Event) Clear() {
	e.b.mustOnLoop("Event.Clear")
	e.set = false
}

// IsSet reports whether the event is set.
func (e *Event) IsSet() bool { return e.set }

// Wait suspends t until the event is set, and returns nil. If t is or gets
// cancelled, it returns the context's error at once, set or not.
func (e *Event) Wait(t *Task) error {
	e.b.bind(t, "Event.Wait")
	for {
		if err := t.awaitErr(); err != nil {
			return err
		}
		if e.set {
			return nil
		}
		e.waiters.wait(t, "Event.Wait")
	}
}
