// Command handoff: how long a runnable goroutine waits while the goroutine ahead of it on its P
// blocks its thread in a system call, until sysmon retakes the P and hands it to another M
// (retake and handoffp in proc.go: a P seen in _Psyscall on two sysmon rounds, at least 20 µs
// apart, is taken when its run queue is not empty).
//
// Each trial, on a P of its own: t0 := time.Now(); `go` the runnable goroutine (it goes to this
// P's runnext); syscall.Nanosleep for 5 ms, a real system call (time.Sleep would park the
// goroutine, not block the thread). The runnable goroutine records time.Since(t0) as its first
// act; the trial waits for it after the call. GOMAXPROCS-1 goroutines spin for the whole
// repetition (workload.Spin 100 µs at a time, never yielding), so no other P is idle to run or
// steal the runnable goroutine: at any GOMAXPROCS it starts only when sysmon hands the P off,
// or, if sysmon has not by then, after the call returns (a latency above 5 ms, counted apart).
// The metric is the p50 of the latencies in µs; p99, max and the share of trials handed off
// during the call are extra fields, medians over the repetitions, named as the C# side names them.
package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gosched/benchmarks/bench"
	"gosched/datasets/workload"
)

const (
	trials  = 200
	sleepNs = 5_000_000
)

func nanosleep(ns int64) {
	ts := syscall.NsecToTimespec(ns)
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

func repetition() map[string]float64 {
	var stop atomic.Bool
	var started atomic.Int32
	var spinners sync.WaitGroup
	spin := runtime.GOMAXPROCS(0) - 1
	spinners.Add(spin)
	for i := 0; i < spin; i++ {
		go func() {
			started.Add(1)
			for !stop.Load() {
				workload.Spin(100 * time.Microsecond)
			}
			spinners.Done()
		}()
	}
	for int(started.Load()) < spin {
		runtime.Gosched()
	}

	lat := make([]int64, trials)
	ran := 0
	for i := range lat {
		var wg sync.WaitGroup
		wg.Add(1)
		t0 := time.Now()
		go func(i int) {
			lat[i] = int64(time.Since(t0))
			wg.Done()
		}(i)
		nanosleep(sleepNs)
		wg.Wait()
		ran++
	}
	stop.Store(true)
	spinners.Wait()

	s := bench.SortedCopy(lat)
	during := 0
	for _, v := range s {
		if v < sleepNs {
			during++
		}
	}
	return map[string]float64{
		"handoff_p50_us":     float64(bench.Percentile(s, 50)) / 1e3,
		"handoff_p99_us":     float64(bench.Percentile(s, 99)) / 1e3,
		"handoff_max_us":     float64(bench.Percentile(s, 100)) / 1e3,
		"during_syscall_pct": 100 * float64(during) / trials,
		"trials_done":        float64(ran),
	}
}

func main() {
	runs, extra := bench.RunFigures("handoff_p50_us", repetition)
	extra = append(extra,
		bench.Field{Name: "trials", Value: trials},
		bench.Field{Name: "sleep_ms", Value: sleepNs / 1e6})
	bench.Print("handoff", "handoff_p50_us", runs, extra...)
}
