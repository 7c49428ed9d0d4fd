package report_test

import (
	"os"
	"testing"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// TestMain serves golang.design/x/mainthread on the main goroutine, as the
// report command does, so that its peer is measured too.
func TestMain(m *testing.M) { os.Exit(peers.RunOnMainThread(m.Run)) }
