package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

// The tour is package main, so its tests are in package main too: they call
// run, the tour's whole logic, as main does.

func TestTour(t *testing.T) {
	tests := []struct {
		name string
		give config
	}{
		{name: "defaults", give: config{}},
		{name: "verbose", give: config{Verbose: true, Goroutines: 3, Calls: 5}},
		{name: "one goroutine", give: config{Goroutines: 1, Calls: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			var out bytes.Buffer
			if err := run(context.Background(), &out, tt.give); err != nil {
				t.Fatalf("run() = %v; want nil\noutput:\n%s", err, &out)
			}
			got := out.String()
			g, c := tt.give.Goroutines, tt.give.Calls
			if g == 0 {
				g, c = 8, 4 // run's defaults
			}
			wants := []string{
				"runner.run(do_stuff(4))        -> threadrunner.Run  = 8",
				"threadrunner.Iter = 0 1 2 3",
				"same loop: true",
				"same thread: true",
				"errors.Is ErrLoopThread: true",
				fmt.Sprintf("%d goroutines x %d calls = %d requests", g, c, g*c),
				fmt.Sprintf("went from 3 to %d: exact (%d), with no lock", 3+g*c, g*c),
				fmt.Sprintf(`exit: session "shared" closed after %d requests`, 3+g*c),
				fmt.Sprintf("got %d lines", pageLines),
				`exit: session "kept" closed after 1 request `,
				"errors.Is ErrClosed: true",
			}
			for _, want := range wants {
				if !strings.Contains(got, want) {
					t.Errorf("run() output does not mention %q; output:\n%s", want, got)
				}
			}
			checkTally(t, got, 9+g*c)
			checkOrder(t, got, "8. Close", `exit: session "kept"`)
			checkOneLoopThread(t, got)
			if tt.give.Verbose {
				if n := strings.Count(got, "   line "); n != pageLines {
					t.Errorf("verbose run() printed %d lines of the page; want %d", n, pageLines)
				}
				if n := len(regexp.MustCompile(`goroutine \d+, call \d+: got 200`).FindAllString(got, -1)); n != g*c {
					t.Errorf("verbose run() printed %d requests of step 5; want %d", n, g*c)
				}
			}
		})
	}
}

// TestTourURL runs the tour against a URL given as with -url: here another
// embedded server, so that the test needs no network.
func TestTourURL(t *testing.T) {
	testkit.Check(t)
	srv, err := startServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), &out, config{URL: srv.URL, Goroutines: 2, Calls: 2}); err != nil {
		t.Fatalf("run() = %v; want nil\noutput:\n%s", err, &out)
	}
	got := out.String()
	for _, want := range []string{"fetching " + srv.URL + "\n", fmt.Sprintf("got %d lines", pageLines)} {
		if !strings.Contains(got, want) {
			t.Errorf("run() output does not mention %q; output:\n%s", want, got)
		}
	}
	want := fmt.Sprintf("done: the sessions made %d requests", srv.served.Load())
	if !strings.Contains(got, want) {
		t.Errorf("run() output does not mention %q; output:\n%s", want, got)
	}
}

// TestSessionBoundToLoop checks that a session refuses to be used from a loop
// other than the one it was entered on, as the seed's aiohttp session does.
func TestSessionBoundToLoop(t *testing.T) {
	testkit.Check(t)
	ctx := context.Background()
	a, b := threadrunner.New(), threadrunner.New()
	defer a.Close()
	defer b.Close()
	var tally atomic.Int64
	s, err := threadrunner.Keep(ctx, a, NewSession("a", &printer{out: new(bytes.Buffer)}, &tally))
	if err != nil {
		t.Fatal(err)
	}
	_, err = threadrunner.Run(ctx, b, s.Requests)
	if err == nil || !strings.Contains(err.Error(), "is bound to loop") {
		t.Errorf("Requests() from another loop = %v; want a bound-to-loop error", err)
	}
	n, err := threadrunner.Run(ctx, a, s.Requests)
	if n != 0 || err != nil {
		t.Errorf("Requests() on its own loop = %d, %v; want 0, nil", n, err)
	}
}

// checkTally checks the tour's last line: the server served as many requests
// as the sessions counted on their loops, and as many as the tour makes.
func checkTally(t *testing.T, out string, want int) {
	t.Helper()
	m := regexp.MustCompile(`served (\d+) requests; the sessions counted (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Errorf("run() output has no server/session tally; output:\n%s", out)
		return
	}
	served, _ := strconv.Atoi(m[1])
	counted, _ := strconv.Atoi(m[2])
	if served != want || counted != want {
		t.Errorf("run() served %d and counted %d requests; want %d and %d", served, counted, want, want)
	}
}

// checkOrder checks that first appears in out, and before then.
func checkOrder(t *testing.T, out, first, then string) {
	t.Helper()
	i, j := strings.Index(out, first), strings.Index(out, then)
	if i < 0 || j < 0 || i > j {
		t.Errorf("run() output has %q at %d and %q at %d; want both, in that order", first, i, then, j)
	}
}

// checkOneLoopThread checks that every request the runner's loop reported
// ("in LoopThread") ran on one OS thread.
func checkOneLoopThread(t *testing.T, out string) {
	t.Helper()
	threads := map[string]bool{}
	for _, m := range regexp.MustCompile(`in LoopThread \(thread (\d+)\)`).FindAllStringSubmatch(out, -1) {
		threads[m[1]] = true
	}
	if len(threads) != 1 {
		t.Errorf("run() reported LoopThread on threads %v; want exactly one", threads)
	}
}
