package testkit

import "slices"

// Leaves returns the errors at the leaves of err's tree, through
// Unwrap() error and Unwrap() []error, so that a test can check that an error
// holds nothing but what it expects. A nil err has no leaves.
func Leaves(err error) []error {
	switch u := err.(type) {
	case nil:
		return nil
	case interface{ Unwrap() []error }:
		var leaves []error
		for _, e := range u.Unwrap() {
			leaves = append(leaves, Leaves(e)...)
		}
		return leaves
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return Leaves(inner)
		}
	}
	return []error{err}
}

// StrayLeaf returns the first leaf of err (see [Leaves]) that is none of
// allowed, compared with ==, or nil if there is none.
func StrayLeaf(err error, allowed ...error) error {
	for _, leaf := range Leaves(err) {
		if !slices.Contains(allowed, leaf) {
			return leaf
		}
	}
	return nil
}
