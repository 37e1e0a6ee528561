// Command pingpong: two goroutines bounce a value over two unbuffered channels; nanoseconds per
// round trip (two channel hand-offs, each parking one goroutine and readying the other).
package main

import (
	"time"

	"gosched/benchmarks/bench"
)

const roundTrips = 200_000

func run() float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	start := time.Now()
	for i := 0; i < roundTrips; i++ {
		ping <- i
		<-pong
	}
	elapsed := time.Since(start)
	close(ping)
	return float64(elapsed.Nanoseconds()) / roundTrips
}

func main() {
	bench.Print("pingpong", "ns_per_roundtrip", bench.Run(run))
}
