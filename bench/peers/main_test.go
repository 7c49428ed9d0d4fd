package peers_test

import (
	"os"
	"testing"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// TestMain serves golang.design/x/mainthread on the main goroutine, so that
// the x-mainthread peer is tested too.
func TestMain(m *testing.M) { os.Exit(peers.RunOnMainThread(m.Run)) }
