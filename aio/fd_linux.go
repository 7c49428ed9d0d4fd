package aio

import (
	"math"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// fdReady reports whether fd is readable (or writable) now, without
// blocking: ppoll with a zero timeout. A hang-up or an error counts as
// ready, since the read or write would not block.
func fdReady(fd uintptr, write bool) (bool, error) {
	if fd > math.MaxInt32 {
		return false, syscall.EBADF
	}
	p := pollFD{fd: int32(fd), events: pollIn}
	if write {
		p.events = pollOut
	}
	var zero syscall.Timespec
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&p)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return false, errno
		case n == 0:
			return false, nil
		case p.revents&pollNVal != 0:
			return false, syscall.EBADF
		}
		return true, nil
	}
}

// pollFD is struct pollfd of <poll.h>.
type pollFD struct {
	fd      int32
	events  int16
	revents int16
}

const (
	pollIn   = 0x1
	pollOut  = 0x4
	pollNVal = 0x20
)

// nonblockMu serializes watchFD's brief change of a file's O_NONBLOCK flag,
// so that two waits on one open file cannot leave it changed.
var nonblockMu sync.Mutex

// watchFD returns a duplicate of fd that the runtime poller watches.
//
// os.NewFile registers a descriptor with the poller only if it is in
// non-blocking mode, and that flag belongs to the open file, which fd and
// its duplicate share: so the duplicate is put in non-blocking mode for the
// moment NewFile takes, and put back at once. The poller's registration
// does not depend on the flag, and the helper never reads or writes, so the
// caller's descriptor keeps the mode it had (net.FileConn, by contrast,
// leaves it non-blocking for good).
func watchFD(fd uintptr) (*os.File, error) {
	nonblockMu.Lock()
	defer nonblockMu.Unlock()
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return nil, errno
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, dup, syscall.F_GETFL, 0)
	if errno != 0 {
		syscall.Close(int(dup))
		return nil, errno
	}
	if flags&syscall.O_NONBLOCK == 0 {
		if err := syscall.SetNonblock(int(dup), true); err != nil {
			syscall.Close(int(dup))
			return nil, err
		}
		defer syscall.SetNonblock(int(dup), false)
	}
	return os.NewFile(dup, "aio-fd"), nil
}

// pollWait blocks until f is readable (or writable), in the runtime poller,
// or until f's deadline passes. Between wake-ups it checks with fdReady, so
// a spurious wake-up does not count.
func pollWait(f *os.File, write bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var checkErr error
	check := func(fd uintptr) bool {
		ready, err := fdReady(fd, write)
		if err != nil {
			checkErr = err
			return true
		}
		return ready
	}
	if write {
		err = rc.Write(check)
	} else {
		err = rc.Read(check)
	}
	if checkErr != nil {
		return checkErr
	}
	return err
}
