// GoRuntime's blocking entry points called from a goroutine. Run blocks its thread until its run
// ends; on an M that thread is one of a runtime's workers, holding a P, and the inner run's main
// would be spawned on the outer runtime (a goroutine's spawns go to its own runtime), so before
// the check neither run could end: the outer one hung until its stop gave up (about 7 s, "a
// goroutine is running code that never awaits the runtime"). Now Run refuses at once with a
// GoUsageException, which the goroutine can catch; SetGomaxprocs, Stop and Dispose of the
// goroutine's own runtime (which would wait for the goroutine itself) are refused the same way.
namespace GoSched.Tests;

public class BlockingEntryPointTests
{
    private static string? s_refused;
    private static int s_innerRan;

    [Theory]
    [InlineData(false)] // a new runtime's Run, from a goroutine of another
    [InlineData(true)]  // the goroutine's own runtime's Run
    public void RunFromAGoroutineIsRefusedAtOnce(bool ownRuntime)
    {
        s_refused = null;
        s_innerRan = 0;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Outer(rt, ownRuntime), TimeSpan.FromSeconds(20));
        Assert.Null(r.Error);
        Assert.Empty(r.Warnings);
        Assert.NotNull(s_refused);
        Assert.Contains("GoRuntime.Run blocks its thread until the run ends, so it cannot be called from a goroutine", s_refused);
        Assert.Contains("start goroutines directly", s_refused);
        Assert.Contains("RunAsync", s_refused);
        Assert.Equal(0, s_innerRan);

        static async GoTask Outer(GoRuntime rt, bool ownRuntime)
        {
            await Go.Gosched();
            try
            {
                if (ownRuntime) rt.Run(() => Inner());
                else
                {
                    using var inner = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
                    inner.Run(() => Inner(), TimeSpan.FromSeconds(5));
                }
            }
            catch (GoUsageException e) { s_refused = e.Message; }
        }

        static async GoTask Inner()
        {
            Interlocked.Increment(ref s_innerRan);
            await Go.Gosched();
        }
    }

    [Fact]
    public void OwnRuntimesBlockingCallsFromAGoroutineAreRefused()
    {
        var refused = new List<string>();
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Calls(rt, refused), TimeSpan.FromSeconds(20));
        Assert.Null(r.Error);
        Assert.Equal(3, refused.Count);
        Assert.Contains("await Go.SetGomaxprocs(n)", refused[0]);
        Assert.Contains("cannot be stopped from one of its own goroutines", refused[1]);
        Assert.Contains("cannot be stopped from one of its own goroutines", refused[2]);

        static async GoTask Calls(GoRuntime rt, List<string> refused)
        {
            await Go.Gosched();
            try { rt.SetGomaxprocs(1); } catch (GoUsageException e) { refused.Add(e.Message); }
            try { rt.Stop(); } catch (GoUsageException e) { refused.Add(e.Message); }
            try { rt.Dispose(); } catch (GoUsageException e) { refused.Add(e.Message); }
        }
    }

    /// <summary>
    /// rt2.Go(body) inside a goroutine of rt1 starts body on rt2: the spawn preferred the calling
    /// M's runtime, so the goroutine ran on rt1 (and rt2 never saw it).
    /// </summary>
    [Fact]
    public void GoOfAnotherRuntimeFromAGoroutineStartsTheGoroutineThere()
    {
        using var rt2 = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        using var rt1 = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        string? where = null;
        var r = rt1.Run(() => Outer(), TimeSpan.FromSeconds(20));
        Assert.Null(r.Error);
        Assert.Equal("rt2", Volatile.Read(ref where));
        Assert.Equal(1, rt2.Stats().GoroutinesStarted);

        async GoTask Outer()
        {
            rt2.Go(() => Probe());
            // The probe runs on one of rt2's threads; wait for its answer without blocking rt1.
            for (int i = 0; i < 2000 && Volatile.Read(ref where) == null; i++) await Go.Sleep(TimeSpan.FromMilliseconds(1));
        }

#pragma warning disable CS1998 // the probe only looks where it runs
        async GoTask Probe()
        {
            Volatile.Write(ref where, GoRuntime.Current == rt2 ? "rt2" : GoRuntime.Current == rt1 ? "rt1" : "?");
        }
#pragma warning restore CS1998
    }

    /// <summary>
    /// A channel outliving its runtime: the goroutine that waited on it is never resumed, so the
    /// host's TrySend finds no receiver (it handed the value to the dropped goroutine, losing it)
    /// and Close has nobody to wake (found by a review: a NullReferenceException from Close).
    /// </summary>
    [Fact]
    public void AChannelOutlivingItsRuntimeHandsNothingToItsDroppedWaiters()
    {
        var ch = new Chan<int>();
        var sem = new Chan<int>();
        int got = 0;
        using (var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")))
        {
            var r = rt.Run(() => Main(), TimeSpan.FromSeconds(20));
            Assert.Null(r.Error);
        }
        Assert.False(ch.TrySend(42), "a value was handed to a goroutine of a stopped runtime");
        sem.Close(); // its waiter belonged to the stopped runtime too
        Assert.Equal(0, Volatile.Read(ref got));

        async GoTask Main()
        {
            Waiter();
            SemWaiter();
            await Go.Sleep(TimeSpan.FromMilliseconds(20)); // both are parked; main returns
        }

        async GoTask Waiter() => Volatile.Write(ref got, await ch.Recv());

        async GoTask SemWaiter() => await sem.Recv();
    }
}
