package leaktest_test

import (
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/leaktest"
)

func TestCheckPassesWhenGoroutinesExit(t *testing.T) {
	leaktest.Check(t)
	done := make(chan struct{})
	go func() { <-done }()
	close(done)
}

func TestLeakedFindsARunningGoroutine(t *testing.T) {
	before := leaktest.Snapshot()
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		<-stop
	}()
	<-started
	if got := leaktest.Leaked(before); len(got) != 1 {
		t.Errorf("Leaked() found %d goroutines; want 1:\n%v", len(got), got)
	}
	close(stop)
	deadline := time.Now().Add(5 * time.Second)
	for len(leaktest.Leaked(before)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("goroutine did not exit")
		}
		time.Sleep(time.Millisecond)
	}
}
