package goid_test

import (
	"testing"

	"github.com/threadrunner/threadrunner/internal/goid"
)

func TestGetTellsGoroutinesApart(t *testing.T) {
	here := goid.Get()
	if here == 0 {
		t.Fatal("Get() = 0; want the goroutine's id")
	}
	if again := goid.Get(); again != here {
		t.Errorf("Get() = %d, then %d on the same goroutine; want the same", here, again)
	}
	other := make(chan uint64)
	go func() { other <- goid.Get() }()
	if id := <-other; id == here || id == 0 {
		t.Errorf("Get() on another goroutine = %d; want a nonzero id other than %d", id, here)
	}
}
