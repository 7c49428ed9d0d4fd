package testkit_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestLeaves(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	tests := []struct {
		name string
		give error
		want []error
	}{
		{"nil", nil, nil},
		{"plain", a, []error{a}},
		{"wrapped", fmt.Errorf("x: %w", a), []error{a}},
		{"joined and wrapped", errors.Join(fmt.Errorf("x: %w", a), errors.Join(b, c)), []error{a, b, c}},
		{"two %w", fmt.Errorf("%w and %w", a, b), []error{a, b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testkit.Leaves(tt.give); !slices.Equal(got, tt.want) {
				t.Errorf("Leaves(%v) = %v; want %v", tt.give, got, tt.want)
			}
		})
	}
	err := errors.Join(a, fmt.Errorf("y: %w", c))
	if got := testkit.StrayLeaf(err, a, c); got != nil {
		t.Errorf("StrayLeaf(%v, a, c) = %v; want nil", err, got)
	}
	if got := testkit.StrayLeaf(err, a, b); got != c {
		t.Errorf("StrayLeaf(%v, a, b) = %v; want c", err, got)
	}
}
