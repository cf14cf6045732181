// A small Go library exported through cgo, built by the tests with -buildmode=c-shared.
package main

// #include <stddef.h>
import "C"

import "unsafe"

//export GoAdd
func GoAdd(a, b C.int) C.int { return a + b }

//export GoScale
func GoScale(value C.longlong, factor C.double) C.double { return C.double(value) * factor }

//export GoCount
func GoCount(buf *C.uchar, n C.size_t, c C.uchar) C.size_t {
	var count C.size_t
	for _, b := range unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)) {
		if C.uchar(b) == c {
			count++
		}
	}
	return count
}

func main() {}
