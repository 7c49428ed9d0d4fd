//go:build !linux

package aio

func threadID() int { return 0 }
