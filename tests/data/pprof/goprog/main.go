// Command goprog writes small, real pprof profiles for foldkit's tests with runtime/pprof:
// a CPU profile of two busy functions (cpu.pb.gz) and a heap profile (heap.pb.gz).
//
//	go run main.go OUTDIR
package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"
)

var sink []byte

//go:noinline
func hashLoop(deadline time.Time) {
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		sum := sha256.Sum256(buf)
		buf[0] = sum[0]
	}
}

//go:noinline
func sortLoop(deadline time.Time) {
	xs := make([]int, 20000)
	for time.Now().Before(deadline) {
		for i := range xs {
			xs[i] = (i * 7919) % 20011
		}
		sort.Ints(xs)
	}
}

//go:noinline
func allocate(n int) {
	for i := 0; i < n; i++ {
		sink = append(sink, make([]byte, 1024)...)
	}
}

func main() {
	out := os.Args[1]
	runtime.MemProfileRate = 4096
	f, err := os.Create(filepath.Join(out, "cpu.pb.gz"))
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	start := time.Now()
	hashLoop(start.Add(600 * time.Millisecond))
	sortLoop(start.Add(1000 * time.Millisecond))
	allocate(2000)
	pprof.StopCPUProfile()
	f.Close()
	h, err := os.Create(filepath.Join(out, "heap.pb.gz"))
	if err != nil {
		panic(err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(h); err != nil {
		panic(err)
	}
	h.Close()
}
