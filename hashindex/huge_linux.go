package hashindex

import (
	"syscall"
	"unsafe"
)

// Linux's madvise advice values (not in package syscall).
const (
	madvHugepage = 14
	madvCollapse = 25 // Linux 6.1 and later
)

// adviseHuge asks Linux to back the large slice s with 2 MiB pages when transparent huge
// pages are in "madvise" mode: a search makes thousands of random reads in arrays of
// hundreds of megabytes, and with 4 KiB pages nearly each of them also misses the TLB
// (dearer still in a virtual machine). Memory advised before it is written is faulted in
// huge pages; once written (collapse), what is still in small pages is copied into huge
// ones. Failures are ignored: the advice only makes searches faster.
func adviseHuge[T any](s []T, collapse bool) {
	const huge = 2 << 20
	size := uintptr(len(s)) * unsafe.Sizeof(*new(T))
	if size < 2*huge {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s))
	skip := (huge - uintptr(base)%huge) % huge
	n := (size - skip) &^ (huge - 1)
	b := unsafe.Slice((*byte)(unsafe.Add(base, skip)), n)
	if syscall.Madvise(b, madvHugepage) == nil && collapse {
		syscall.Madvise(b, madvCollapse)
	}
}
