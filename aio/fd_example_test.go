//go:build linux

package aio_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/threadrunner/threadrunner/aio"
)

// A task waits for a pipe to become readable while other goroutines (and
// tasks) go on; then a read does not block.
func ExampleWaitReadable() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	defer r.Close()
	defer w.Close()
	v, err := aio.Run(context.Background(), func(t *aio.Task) (string, error) {
		go w.Write([]byte("hello"))
		if err := aio.WaitReadable(t, r.Fd()); err != nil {
			return "", err
		}
		buf := make([]byte, 16)
		n, err := r.Read(buf) // data is there: it does not block the loop
		return string(buf[:n]), err
	})
	fmt.Println(v, err)
	// Output: hello <nil>
}

// A wait for a descriptor is cancelled like any await: here by a deadline.
func ExampleWaitReadable_timeout() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	defer r.Close()
	defer w.Close()
	_, err = aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		return aio.Timeout(t, 10*time.Millisecond, func(t *aio.Task) (int, error) {
			return 0, aio.WaitReadable(t, r.Fd()) // nobody writes
		})
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

// A task waits until a pipe has room before it writes.
func ExampleWaitWritable() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	defer r.Close()
	defer w.Close()
	_, err = aio.Run(context.Background(), func(t *aio.Task) (int, error) {
		if err := aio.WaitWritable(t, w.Fd()); err != nil {
			return 0, err
		}
		return w.Write([]byte("hi"))
	})
	buf := make([]byte, 2)
	n, _ := r.Read(buf)
	fmt.Println(string(buf[:n]), err)
	// Output: hi <nil>
}
