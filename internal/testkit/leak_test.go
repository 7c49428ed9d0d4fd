package testkit_test

import (
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestLeakCheckPassesWhenGoroutinesExit(t *testing.T) {
	testkit.LeakCheck(t)
	done := make(chan struct{})
	go func() { <-done }()
	close(done)
}

func TestLeakedFindsARunningGoroutine(t *testing.T) {
	before := testkit.Snapshot()
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		<-stop
	}()
	<-started
	if got := testkit.Leaked(before); len(got) != 1 {
		t.Errorf("Leaked() found %d goroutines; want 1:\n%v", len(got), got)
	}
	close(stop)
	deadline := time.Now().Add(5 * time.Second)
	for len(testkit.Leaked(before)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("goroutine did not exit")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLeakCheckReportsALeak(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	ft := &fakeT{name: "leaky"}
	testkit.LeakTimeout, ft.restore = 10*time.Millisecond, testkit.LeakTimeout
	defer func() { testkit.LeakTimeout = ft.restore }()
	testkit.LeakCheck(ft)
	started := make(chan struct{})
	go func() {
		close(started)
		<-stop
	}()
	<-started
	ft.cleanup()
	if len(ft.errors) != 1 {
		t.Fatalf("LeakCheck reported %q; want one error naming the leak", ft.errors)
	}
	if got := ft.errors[0]; !contains(got, "1 goroutine(s) leaked", "TestLeakCheckReportsALeak") {
		t.Errorf("LeakCheck reported %q; want the count and the leaked goroutine's stack", got)
	}
}
