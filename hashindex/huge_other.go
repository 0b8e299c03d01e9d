//go:build !linux

package hashindex

// adviseHuge does nothing outside Linux.
func adviseHuge[T any](s []T, collapse bool) {}
