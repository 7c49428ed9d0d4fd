package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

// The example is package main, so its tests are too: they call run, as main
// does, and check what each step shows.

func TestWalkthrough(t *testing.T) {
	tests := []struct {
		name string
		give config
	}{
		{name: "defaults", give: config{Goroutines: 8, Calls: 4, Loops: 2}},
		{name: "one of each", give: config{Goroutines: 1, Calls: 1, Loops: 1}},
		{name: "many", give: config{Goroutines: 32, Calls: 5, Loops: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.Check(t)
			var out bytes.Buffer
			if err := run(context.Background(), &out, tt.give); err != nil {
				t.Fatalf("run() = %v; want nil\noutput:\n%s", err, &out)
			}
			got := out.String()
			g, c, l := tt.give.Goroutines, tt.give.Calls, tt.give.Loops
			for _, want := range []string{
				"js.Call(doubled, 4)            = 8",
				"threadrunner.Iter(js.Iter(...)) = 0 1 2 3",
				"(request 2 of the session)",
				fmt.Sprintf("%d goroutines x %d calls = %d requests; in JavaScript: %d requests on thread", g, c, g*c, g*c),
				fmt.Sprintf("went from 2 to %d: exact (%d), with no lock", 2+g*c, g*c),
				fmt.Sprintf("got %d lines", pageLines),
				fmt.Sprintf("exit: session 1 closed after %d requests", 3+g*c),
				"errors.Is ErrClosed: true",
				fmt.Sprintf("a pool of %d JavaScript runtimes", l),
				fmt.Sprintf("%d requests from %d clients: pool-0 rendered", g*c, g),
			} {
				if !strings.Contains(got, want) {
					t.Errorf("run() output does not mention %q; output:\n%s", want, got)
				}
			}
			if i, j := strings.Index(got, "5. Close"), strings.Index(got, "exit: session 1"); i < 0 || j < i {
				t.Errorf("the session closed outside step 5; output:\n%s", got)
			}
		})
	}
}
