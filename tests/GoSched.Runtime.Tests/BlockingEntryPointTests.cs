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
}
