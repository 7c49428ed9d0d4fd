package testkit

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Events records events from any goroutine, in the order they are added.
// Its zero value is ready to use; a nil *Events records nothing, so that a
// recorder can make its log optional. It is safe for concurrent use.
type Events struct {
	mu     sync.Mutex // guards events
	events []string
}

// Add records an event, formatted as by fmt.Sprintf.
func (e *Events) Add(format string, args ...any) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, fmt.Sprintf(format, args...))
}

// List returns a copy of the events so far.
func (e *Events) List() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// Index returns the position of the first event that starts with prefix, or
// -1.
func (e *Events) Index(prefix string) int {
	return slices.IndexFunc(e.List(), func(ev string) bool { return strings.HasPrefix(ev, prefix) })
}
