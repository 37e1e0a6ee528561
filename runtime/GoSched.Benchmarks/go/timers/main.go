// Command timers: how late time.Sleep wakes a goroutine, in three scenarios (issue 3):
//
//	idle:     one goroutine sleeping 1 ms, idleSleeps times in a row, nothing else running;
//	sleepers: 10,000 goroutines each sleeping sleeperSleeps random whole-millisecond durations in
//	          [1, 50] ms;
//	loaded:   the sleepers again while GOMAXPROCS goroutines spin (workload.Spin, 1 ms at a time,
//	          then runtime.Gosched()), so that every P is busy and timers run only when a P
//	          schedules (checkTimers in schedule/findrunnable). Without the Gosched, timers wait
//	          for sysmon to preempt a spinner (forcePreemptNS, 10 ms, checked every 10 ms by an
//	          idle-looking sysmon): about 20 ms at p50, a figure of sysmon's period.
//
// Lateness is measured by the sleeper itself, as the C# sides do: monotonic time after the sleep
// minus (time before it + the duration). The percentiles are read at the same rank as
// HdrHistogram's getValueAtPercentile (bench.Percentile). The metric is the
// sleepers' p99 in ms; every scenario's p50/p90/p99/max (medians over the repetitions) are extra
// fields named like the C# sides' figures.
package main

import (
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gosched/benchmarks/bench"
	"gosched/datasets/workload"
)

const (
	idleSleeps    = 400
	sleepers      = 10_000
	sleeperSleeps = 12
	minSleepMs    = 1
	maxSleepMs    = 50
)

var percentiles = []struct {
	name string
	p    float64
}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"max", 100}}

// figures adds the scenario's percentiles (ms) and its share of early wake-ups (%) to into.
func figures(scenario string, latenessNs []int64, into map[string]float64) {
	s := bench.SortedCopy(latenessNs)
	early := 0
	for _, v := range s {
		if v < 0 {
			early++
		}
	}
	for _, q := range percentiles {
		v := bench.Percentile(s, q.p)
		if v < 0 {
			v = 0
		}
		into[scenario+"_"+q.name+"_ms"] = float64(v) / 1e6
	}
	into[scenario+"_early_pct"] = 100 * float64(early) / float64(len(s))
}

func idle() []int64 {
	out := make([]int64, idleSleeps)
	for i := range out {
		start := time.Now()
		time.Sleep(time.Millisecond)
		out[i] = int64(time.Since(start) - time.Millisecond)
	}
	return out
}

func sleep(seed int64, out []int64, wg *sync.WaitGroup) {
	rng := rand.New(rand.NewSource(seed))
	for k := range out {
		d := time.Duration(minSleepMs+rng.Intn(maxSleepMs-minSleepMs+1)) * time.Millisecond
		start := time.Now()
		time.Sleep(d)
		out[k] = int64(time.Since(start) - d)
	}
	wg.Done()
}

func sleepersRun(seed int64, load bool) []int64 {
	var stop atomic.Bool
	var burners sync.WaitGroup
	if load {
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			burners.Add(1)
			go func() {
				for !stop.Load() {
					workload.Spin(time.Millisecond)
					runtime.Gosched()
				}
				burners.Done()
			}()
		}
	}
	out := make([]int64, sleepers*sleeperSleeps)
	var wg sync.WaitGroup
	wg.Add(sleepers)
	for i := 0; i < sleepers; i++ {
		go sleep(seed+int64(i), out[i*sleeperSleeps:(i+1)*sleeperSleeps], &wg)
	}
	wg.Wait()
	stop.Store(true)
	burners.Wait()
	return out
}

func main() {
	rep := 0
	runs, extra := bench.RunFigures("sleepers_p99_ms", func() map[string]float64 {
		rep++
		f := map[string]float64{}
		figures("idle", idle(), f)
		figures("sleepers", sleepersRun(int64(rep)*sleepers, false), f)
		figures("loaded", sleepersRun(int64(rep)*sleepers, true), f)
		return f
	})
	extra = append(extra,
		bench.Field{Name: "idle_sleeps", Value: idleSleeps},
		bench.Field{Name: "sleepers", Value: sleepers},
		bench.Field{Name: "sleeps_per_sleeper", Value: sleeperSleeps})
	bench.Print("timers", "sleepers_p99_ms", runs, extra...)
}
