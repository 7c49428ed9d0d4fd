//go:build !unix

package cases

import (
	"errors"
	"time"
)

// processCPU is not implemented on this system.
func processCPU() (time.Duration, error) {
	return 0, errors.New("cases: process CPU time is not available on this system")
}
