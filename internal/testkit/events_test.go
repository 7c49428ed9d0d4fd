package testkit_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestEvents(t *testing.T) {
	var e testkit.Events
	e.Add("enter %s", "a")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { e.Add("concurrent") })
	}
	wg.Wait()
	e.Add("exit %d", 1)
	got := e.List()
	if len(got) != 10 || got[0] != "enter a" || got[9] != "exit 1" {
		t.Errorf("List() = %q; want enter a, 8 concurrent events, exit 1", got)
	}
	got[0] = "changed"
	if e.List()[0] != "enter a" {
		t.Error("List() returned the events themselves; want a copy")
	}
	if i := e.Index("exit"); i != 9 {
		t.Errorf("Index(exit) = %d; want 9", i)
	}
	if i := e.Index("none"); i != -1 {
		t.Errorf("Index(none) = %d; want -1", i)
	}

	var none *testkit.Events
	none.Add("dropped") // a nil log records nothing, and does not panic
	if !slices.Equal(e.List()[1:9], slices.Repeat([]string{"concurrent"}, 8)) {
		t.Errorf("List() = %q; want the concurrent events in the middle", e.List())
	}
}
