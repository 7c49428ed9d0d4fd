package bench_test

import (
	"os"
	"testing"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// TestMain hands the main goroutine to golang.design/x/mainthread, whose Call
// runs functions there, and runs the tests and benchmarks on another
// goroutine.
func TestMain(m *testing.M) { os.Exit(peers.RunOnMainThread(m.Run)) }
