namespace GoSched.Tests;

/// <summary>
/// Go.Select() reuses the goroutine's one select object (so a select loop allocates nothing): a
/// select built before a later Go.Select() is refused with a usage error instead of running the
/// later one's cases, and a case's value read after a later select reused it is refused too.
/// </summary>
[Collection(ProcessWideCollection.Name)] // reads the process's allocation count
public class SelectReuseTests
{
    /// <summary>
    /// The reviewer's program: s1 receives from a, s2 (built before s1 is awaited) from b. Awaiting
    /// s1 used to run s2's case (index 0, b's value 2 reported as a's case); now it is a
    /// GoUsageException saying what to do, and s2 still works.
    /// </summary>
    [Fact]
    public void ASelectBuiltBeforeALaterGoSelectIsRefused()
    {
        Exception? awaitError = null, addError = null;
        int chosen2 = -2, value2 = 0, leftInA = 0;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.Contains("await each select before calling Go.Select() again", Assert.IsType<GoUsageException>(awaitError).Message);
        Assert.IsType<GoUsageException>(addError);
        Assert.Equal(0, chosen2);
        Assert.Equal(2, value2);
        Assert.Equal(1, leftInA); // s1 never ran

        async GoTask Main()
        {
            var a = new Chan<int>(1);
            var b = new Chan<int>(1);
            await a.Send(1);
            await b.Send(2);
            var s1 = Go.Select();
            var ra = s1.Recv(a);
            var s2 = Go.Select();
            var rb = s2.Recv(b);
            try { await s1; }
            catch (GoUsageException e) { awaitError = e; }
            try { s1.Default(); }
            catch (GoUsageException e) { addError = e; }
            chosen2 = await s2;
            value2 = rb.Value;
            leftInA = await a.Recv();
        }
    }

    /// <summary>A case's value is readable until a later select reuses the case, and refused after.</summary>
    [Fact]
    public void ACaseReadAfterALaterSelectReusedItIsRefused()
    {
        Exception? readError = null;
        int first = 0, second = 0;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.Equal(1, first);
        Assert.Equal(2, second);
        Assert.Contains("read a case's Value and Ok before building the next select", Assert.IsType<GoUsageException>(readError).Message);

        async GoTask Main()
        {
            var a = new Chan<int>(2);
            await a.Send(1);
            await a.Send(2);
            var s1 = Go.Select();
            var r1 = s1.Recv(a);
            await s1;
            first = r1.Value;
            var s2 = Go.Select();
            var r2 = s2.Recv(a); // reuses r1's case object
            await s2;
            second = r2.Value;
            try { _ = r1.Value; }
            catch (GoUsageException e) { readError = e; }
        }
    }

    /// <summary>A select loop still allocates nothing per select (the handle is a struct, the box and its cases are reused).</summary>
    [Fact]
    public void ASelectLoopAllocatesNothingPerSelect()
    {
        double perSelect = ProcessAllocations.PerRound(Loop);
        Assert.True(perSelect < 1, $"{perSelect:0.00} bytes per select");

        static async GoTask Loop(int rounds)
        {
            var c = new Chan<int>();
            var quit = new Chan<bool>();
            Producer(c, rounds);
            for (int i = 0; i < rounds; i++)
            {
                var sel = Go.Select();
                var rc = sel.Recv(c);
                sel.Recv(quit);
                if (await sel != rc.Index || rc.Value != i) throw new InvalidOperationException($"round {i}: wrong case or value");
            }
        }

        static async GoTask Producer(Chan<int> c, int rounds)
        {
            for (int i = 0; i < rounds; i++) await c.Send(i);
        }
    }
}
