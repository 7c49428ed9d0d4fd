//go:build !linux || !cgo

package main

import (
	"context"
	"errors"
	"io"
)

// run explains why the example cannot run here.
func run(ctx context.Context, out io.Writer, g, n int) error {
	return errors.New("this example needs Linux and cgo (CGO_ENABLED=1 and a C compiler)")
}
