package testkit

import "errors"

// Errors the tests hand through the code under test, to check that they come
// back unchanged (== or errors.Is).
var (
	ErrTask  = errors.New("task failed")
	ErrBody  = errors.New("body failed")
	ErrEnter = errors.New("enter failed")
	ErrExit  = errors.New("exit failed")
	ErrGen   = errors.New("generator failed")
)

// CtxKey is the key of the context values the tests pass through, to check
// that they arrive.
type CtxKey struct{}
