//go:build !linux

package aio

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

var errFDUnsupported = fmt.Errorf("waiting for a file descriptor is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func fdReady(fd uintptr, write bool) (bool, error) { return false, errFDUnsupported }

func watchFD(fd uintptr) (*os.File, error) { return nil, errFDUnsupported }

func pollWait(f *os.File, write bool) error { return errFDUnsupported }
