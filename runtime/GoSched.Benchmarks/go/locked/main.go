// Command locked: the price of runtime.LockOSThread on a channel ping-pong. Two goroutines bounce
// a value over two unbuffered channels, first with neither locked, then with the echo goroutine
// locked to its thread (each time it blocks, its M hands the P off and sleeps in stoplockedm;
// each time it is readied, the M that dequeues it hands its P to the locked M in startlockedm):
// nanoseconds per round trip of each, the metric being the locked one. Fresh channels and a fresh
// echo goroutine for each half, as in pingpong. Round trips that came back in order and the
// threads the locked goroutine ran on (syscall.Gettid; 1 unless the lock is broken) are counted,
// as the C# side counts them.
package main

import (
	"runtime"
	"syscall"
	"time"

	"gosched/benchmarks/bench"
)

const (
	unlockedRoundTrips = 200_000
	lockedRoundTrips   = 20_000
)

type half struct {
	nsPerRoundTrip float64
	roundTrips     int
	threads        int
}

func pingPong(n int, locked bool) half {
	ping, pong, threads := make(chan int), make(chan int), make(chan int, 1)
	go func() {
		if locked {
			runtime.LockOSThread()
		}
		ranOn := map[int]bool{syscall.Gettid(): true}
		for v := range ping {
			ranOn[syscall.Gettid()] = true
			pong <- v
		}
		if locked {
			runtime.UnlockOSThread()
		}
		threads <- len(ranOn)
	}()
	inOrder := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		if <-pong == i {
			inOrder++
		}
	}
	elapsed := time.Since(start)
	close(ping)
	return half{float64(elapsed.Nanoseconds()) / float64(n), inOrder, <-threads}
}

func main() {
	runs, extra := bench.RunFigures("locked_ns_per_roundtrip", func() map[string]float64 {
		u := pingPong(unlockedRoundTrips, false)
		l := pingPong(lockedRoundTrips, true)
		return map[string]float64{
			"unlocked_ns_per_roundtrip": u.nsPerRoundTrip,
			"locked_ns_per_roundtrip":   l.nsPerRoundTrip,
			"locked_over_unlocked":      l.nsPerRoundTrip / u.nsPerRoundTrip,
			"round_trips_done":          float64(u.roundTrips + l.roundTrips),
			"locked_threads":            float64(l.threads),
		}
	})
	extra = append(extra,
		bench.Field{Name: "unlocked_round_trips", Value: unlockedRoundTrips},
		bench.Field{Name: "locked_round_trips", Value: lockedRoundTrips})
	bench.Print("locked", "locked_ns_per_roundtrip", runs, extra...)
}
