package goid_test

import (
	"slices"
	"strings"
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

func TestParse(t *testing.T) {
	dump := "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1d\n\n" +
		"goroutine 18 gp=0xc000007500 m=nil [chan receive, 2 minutes]:\nmain.wait()\n\t/x/main.go:9\ncreated by main.main in goroutine 1\n\n" +
		"\n" +
		"not a goroutine\n"
	got := goid.Parse([]byte(dump))
	want := []goid.Goroutine{
		{ID: 1, State: "running", Stack: "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1d"},
		{ID: 18, State: "chan receive, 2 minutes", Stack: "goroutine 18 gp=0xc000007500 m=nil [chan receive, 2 minutes]:\nmain.wait()\n\t/x/main.go:9\ncreated by main.main in goroutine 1"},
		{ID: 0, State: "", Stack: "not a goroutine"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Parse() = %+v; want %+v", got, want)
	}
	if got := goid.Parse(nil); len(got) != 0 {
		t.Errorf("Parse(nil) = %+v; want none", got)
	}
}

//go:noinline
func parkedForTest(id chan<- uint64, release <-chan struct{}) {
	id <- goid.Get()
	<-release
}

func TestStackAndAllFindAGoroutine(t *testing.T) {
	ids := make(chan uint64)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		parkedForTest(ids, release)
	}()
	id := <-ids
	defer func() {
		close(release)
		<-done
	}()

	// The goroutine may still be on its way into the receive: wait until
	// its stack shows it parked there.
	var stack string
	for {
		var ok bool
		if stack, ok = goid.Stack(id); !ok {
			t.Fatalf("Stack(%d) found no such goroutine; want the parked one", id)
		}
		if strings.Contains(stack, "[chan receive") {
			break
		}
	}
	if !strings.HasPrefix(stack, "goroutine ") || !strings.Contains(stack, "parkedForTest") {
		t.Errorf("Stack(%d) = %q; want its block, naming parkedForTest", id, stack)
	}

	var self, parked *goid.Goroutine
	all := goid.All()
	for i := range all {
		switch all[i].ID {
		case goid.Get():
			self = &all[i]
		case id:
			parked = &all[i]
		}
	}
	if self == nil || self.State != "running" {
		t.Errorf("All() lists the caller as %+v; want it running", self)
	}
	if parked == nil || !strings.HasPrefix(parked.State, "chan receive") || parked.Stack != stack {
		t.Errorf("All() lists the parked goroutine as %+v; want it in chan receive, with the block Stack returned", parked)
	}
	if stack, ok := goid.Stack(1 << 62); ok {
		t.Errorf("Stack(no such id) = %q, true; want false", stack)
	}
}
