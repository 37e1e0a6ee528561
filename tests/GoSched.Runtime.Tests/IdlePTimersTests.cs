namespace GoSched.Tests;

/// <summary>
/// Timers of an idle P are run by another P: stealWork's last pass runs checkTimers on every P
/// in the timer mask, so a P whose goroutines all blocked (its M gone to park, its heap left
/// behind) does not need its own M back for its timers to fire.
/// </summary>
public class IdlePTimersTests
{
    /// <summary>
    /// GOMAXPROCS=2, rounds of: a goroutine adds timers to its P's heap and blocks for good, its P
    /// goes idle, while another goroutine keeps its M cycling through findRunnable (short sleeps)
    /// until they fire. Which M wakes first and which idle P it takes is up to the scheduler, so a
    /// round may run them on their own P; over the rounds some must be run by the other P. Every
    /// timer fires exactly once (conservation), whoever runs it.
    /// </summary>
    [Fact]
    public void TimersOfAnIdlePAreRunByAnotherP()
    {
        const int rounds = 40, perRound = 8;
        var fired = new int[rounds * perRound];
        int byOtherP = 0, byOwnP = 0, leftAfter = -1;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0,verifytimers=1"));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.All(fired, n => Assert.Equal(1, n));
        Assert.Equal(rounds * perRound, byOtherP + byOwnP);
        Assert.True(byOtherP > 0, $"no timer of an idle P was run by the other P ({byOwnP} by their own P)");
        Assert.Equal(0, leftAfter);

        async GoTask Main()
        {
            var done = new Chan<int>(perRound);
            for (int round = 0; round < rounds; round++)
            {
                var stop = new Chan<bool>();
                Owner(round, done);
                Cycler(stop);
                for (int i = 0; i < perRound; i++) await done.Recv();
                stop.Close();
            }
            await Go.Sleep(TimeSpan.FromMilliseconds(20));
            leftAfter = done.Count + fired.Sum() - rounds * perRound;
        }

        // Adds timers to the heap of the P it runs on, then blocks for good: that P has nothing
        // left to run.
        async GoTask Owner(int round, Chan<int> done)
        {
            var grt = GoRuntime.Current;
            for (int i = 0; i < perRound; i++)
            {
                int id = round * perRound + i;
                // Its heap: addtimer puts it on the current P's, and nothing here lets the goroutine move.
                var t = new RTimer { When = Go.When(2_000_000), Arg = M.t_current!.P };
                t.F = (owner, _) =>
                {
                    Interlocked.Increment(ref fired[id]);
                    // The function runs on the M that runs the timer: the P that M holds ran it.
                    if (M.t_current!.P != owner) Interlocked.Increment(ref byOtherP);
                    else Interlocked.Increment(ref byOwnP);
                    done.SelectNbSend(id);
                };
                grt.AddTimer(t);
                if (t.PP != null && t.PP != t.Arg) throw new Exception("addtimer put the timer on another P than the current one");
            }
            await new Chan<bool>().Recv();
        }

        // Keeps an M going through the scheduler with short sleeps until stop is closed.
        async GoTask Cycler(Chan<bool> stop)
        {
            while (true)
            {
                var sel = Go.Select();
                var s = sel.Recv(stop);
                sel.Default();
                if (await sel == s.Index) return;
                await Go.SleepNs(100_000);
            }
        }
    }
}
