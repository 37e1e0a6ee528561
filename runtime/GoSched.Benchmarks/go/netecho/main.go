// Command netecho: client and server goroutines echoing 64-byte messages over loopback TCP with
// the net package, in two phases per repetition:
//
//	latency:    one connection, latencyRoundTrips round trips one after the other, each timed
//	            (write 64 bytes, read the 64 back); p50/p99/max in µs;
//	throughput: pairs connections at once, each making pairRoundTrips round trips; round trips
//	            per second over the phase's wall time (dialling is not timed).
//
// The server accepts in one goroutine and echoes each connection in its own: read up to 64 bytes,
// write back what was read, until EOF. Every message carries its sequence number, checked when it
// comes back; echoes_ok counts those that did. The metric is the latency p50 in µs; the other
// figures are extra fields (medians over the repetitions) named as the C# sides name them.
// Percentiles as bench.Percentile reads them (HdrHistogram's rank), TCP_NODELAY as Go sets it.
package main

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"time"

	"gosched/benchmarks/bench"
)

const (
	msgSize           = 64
	latencyRoundTrips = 10_000
	pairs             = 64
	pairRoundTrips    = 1_000
)

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func serve(ln net.Listener, served *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // the listener was closed
		}
		served.Add(1)
		go func() {
			buf := make([]byte, msgSize)
			for {
				n, err := c.Read(buf)
				if err != nil {
					break
				}
				if _, err := c.Write(buf[:n]); err != nil {
					break
				}
			}
			c.Close()
			served.Done()
		}()
	}
}

// roundTrip sends message seq and reads it back; true if it came back intact.
func roundTrip(c net.Conn, buf []byte, seq uint64) bool {
	binary.LittleEndian.PutUint64(buf, seq)
	_, err := c.Write(buf)
	check(err)
	_, err = io.ReadFull(c, buf)
	check(err)
	return binary.LittleEndian.Uint64(buf) == seq
}

func repetition() map[string]float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	var served sync.WaitGroup
	go serve(ln, &served)
	addr := ln.Addr().String()
	ok := 0

	c, err := net.Dial("tcp", addr)
	check(err)
	buf := make([]byte, msgSize)
	lat := make([]int64, latencyRoundTrips)
	for i := range lat {
		start := time.Now()
		intact := roundTrip(c, buf, uint64(i))
		lat[i] = int64(time.Since(start))
		if intact {
			ok++
		}
	}
	c.Close()

	conns := make([]net.Conn, pairs)
	for i := range conns {
		conns[i], err = net.Dial("tcp", addr)
		check(err)
	}
	oks := make([]int, pairs)
	var wg sync.WaitGroup
	wg.Add(pairs)
	start := time.Now()
	for i, c := range conns {
		go func(i int, c net.Conn) {
			buf := make([]byte, msgSize)
			for k := 0; k < pairRoundTrips; k++ {
				if roundTrip(c, buf, uint64(k)) {
					oks[i]++
				}
			}
			wg.Done()
		}(i, c)
	}
	wg.Wait()
	wall := time.Since(start)
	for i, c := range conns {
		c.Close()
		ok += oks[i]
	}
	ln.Close()
	served.Wait()

	s := bench.SortedCopy(lat)
	return map[string]float64{
		"rtt_p50_us":          float64(bench.Percentile(s, 50)) / 1e3,
		"rtt_p99_us":          float64(bench.Percentile(s, 99)) / 1e3,
		"rtt_max_us":          float64(bench.Percentile(s, 100)) / 1e3,
		"throughput_rt_per_s": pairs * pairRoundTrips / wall.Seconds(),
		"echoes_ok":           float64(ok),
	}
}

func main() {
	runs, extra := bench.RunFigures("rtt_p50_us", repetition)
	extra = append(extra,
		bench.Field{Name: "msg_bytes", Value: msgSize},
		bench.Field{Name: "latency_round_trips", Value: latencyRoundTrips},
		bench.Field{Name: "pairs", Value: pairs},
		bench.Field{Name: "pair_round_trips", Value: pairRoundTrips})
	bench.Print("netecho", "rtt_p50_us", runs, extra...)
}
