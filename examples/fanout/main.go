// Command fanout fans many tasks out on one loop with aio.Group, the
// structured concurrency of errgroup: a thousand tasks that each sleep a
// little and compute something, their results gathered in loop-owned state
// with no lock. A second run shows the first error cancelling the rest.
//
//	go run ./examples/fanout
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

func main() {
	n := flag.Int("n", 1000, "tasks to fan out")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *n); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}
