namespace GoSched.Tests;

/// <summary>GoFrame boxes: reused once their result is taken, and a GoFrame awaited twice is an error.</summary>
[Collection(ProcessWideCollection.Name)] // reads the process's allocation count
public class FrameTests
{
    [Fact]
    public void FramesThatSuspendReuseTheirBoxes()
    {
        double perRoundTrip = ProcessAllocations.PerRound(PingPong);
        // Two frames suspend per round trip; a new box each time would be well over 100 bytes.
        Assert.True(perRoundTrip < 8, $"{perRoundTrip:0.0} bytes per round trip");
    }

    private static async GoTask PingPong(int rounds)
    {
        var a = new Chan<int>();
        var b = new Chan<int>();
        var wg = new WaitGroup();
        wg.Add(1);
        Echo(a, b, wg);
        for (int i = 0; i < rounds; i++)
        {
            await a.Send(i);
            if (await RecvVia(b) != i) throw new InvalidOperationException($"round {i}: wrong value");
        }
        a.Close();
        await wg.Wait();
    }

    private static async GoFrame<int> RecvVia(Chan<int> c) => await Inner(c);

    private static async GoFrame<int> Inner(Chan<int> c) => await c.Recv();

    private static async GoTask Echo(Chan<int> a, Chan<int> b, WaitGroup wg)
    {
        while (true)
        {
            var (v, ok) = await a.RecvOk();
            if (!ok) break;
            await b.Send(v);
        }
        wg.Done();
    }

    [Fact]
    public void AwaitingOneGoFrameTwiceIsAClearError()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        Assert.NotNull(r.Error);
        Assert.Contains("a GoFrame was awaited twice", r.Error!.ToString());

        static async GoTask Main()
        {
            var f = Suspends();
            Assert.Equal(7, await f);
            await Suspends(); // the box goes back and is reused by this call
            await f;          // f's box now belongs to another call
        }

        static async GoFrame<int> Suspends()
        {
            await Go.Gosched();
            return 7;
        }
    }

    [Fact]
    public void AFrameThatThrowsAfterSuspendingStillPassesItsExceptionAndItsBoxIsReused()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        int caught = 0, returned = 0;
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.Equal((500, 500), (caught, returned));

        async GoTask Main()
        {
            for (int i = 0; i < 1000; i++)
            {
                try { returned += await Maybe(i % 2 == 0); }
                catch (InvalidOperationException e) when (e.Message == "odd") { caught++; }
            }
        }

        static async GoFrame<int> Maybe(bool ok)
        {
            await Go.Gosched();
            if (!ok) throw new InvalidOperationException("odd");
            return 1;
        }
    }

    /// <summary>
    /// A GoFrame method called outside any goroutine is a usage error that names it: the sync
    /// primitives' blocking calls that are GoFrames (RWMutex.Lock, Cond.Wait, Once.Do), as Mutex.Lock's
    /// awaiter names itself, and a helper of one's own. It said "a GoFrame (call it from inside a
    /// goroutine) can only run inside a goroutine", whichever it was.
    /// </summary>
    [Fact]
    public void AGoFrameCalledOutsideAGoroutineIsAUsageErrorNamingIt()
    {
        Assert.Equal("RWMutex.Lock (an async GoFrame method) can only run inside a goroutine",
            Assert.Throws<GoUsageException>(() => new RWMutex().Lock()).Message);
        Assert.Equal("Cond.Wait (an async GoFrame method) can only run inside a goroutine",
            Assert.Throws<GoUsageException>(() => new Cond(new Mutex()).Wait()).Message);
        Assert.Equal("Once.Do can only run inside a goroutine",
            Assert.Throws<GoUsageException>(() => new Once().Do(() => { })).Message);
        Assert.Equal("FrameTests.Helper (an async GoFrame method) can only run inside a goroutine",
            Assert.Throws<GoUsageException>(() => Helper()).Message);
        Assert.StartsWith("FrameTests.AGoFrameCalledOutsideAGoroutineIsAUsageErrorNamingIt (an async GoFrame method)",
            Assert.Throws<GoUsageException>(() => Local()).Message);
        Assert.Equal("FrameTests.Valued (an async GoFrame method) can only run inside a goroutine",
            Assert.Throws<GoUsageException>(() => Valued()).Message);

        static async GoFrame Local() => await Go.Gosched();
    }

    private static async GoFrame Helper() => await Go.Gosched();

    private static async GoFrame<int> Valued() { await Go.Gosched(); return 1; }
}
