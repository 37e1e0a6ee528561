// select locks every channel it involves, once each, in one global order (selectgo's lockorder):
// a channel whose lock select did not take may change under it between pass 1 and the park, and
// a wake-up is lost. The order and the "once each" rely on channel identity (Go: the hchan
// address; here Chan<T>.Id), so two distinct channels must never compare equal, whatever their
// element types.
namespace GoSched.Tests;

public class SelectLockOrderTests
{
    /// <summary>
    /// A select over a Chan&lt;bool&gt; and a Chan&lt;int&gt; whose Ids are equal: the value waiting in the
    /// second must be received. (Ids come from a counter per closed generic type, so the n-th
    /// Chan&lt;bool&gt; and the n-th Chan&lt;int&gt; of the process get the same Id, and select then treats
    /// them as one channel: it locks only the first and, when the second is ready, releases a lock
    /// it never took.)
    /// </summary>
    [Fact]
    public void SelectOverChannelsOfDifferentElementTypesLocksBoth()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        int chosen = -2, want = -3;
        var r = rt.Run(() => Main(v => chosen = v, v => want = v), TimeSpan.FromSeconds(30));
        Assert.True(r.Succeeded, r.Error?.ToString());
        Assert.Equal(want, chosen);

        static async GoTask Main(Action<int> setChosen, Action<int> setWant)
        {
            var a = new Chan<bool>(1);
            var b = new Chan<int>(1);
            while (b.Id < a.Id) b = new Chan<int>(1);
            while (a.Id < b.Id) a = new Chan<bool>(1);
            await b.Send(42);

            var sel = Go.Select();
            sel.Recv(a);
            var rb = sel.Recv(b);
            setWant(rb.Index);
            setChosen(await sel);
        }
    }

    /// <summary>
    /// The same pair of channels, blocking: one goroutine selects {receive from quit, send on ping},
    /// another receives from ping. Every round must complete until quit closes. With the shared
    /// Ids, ping's queues are read and written without its lock and the run ends either in a
    /// SynchronizationLockException (select releases ping's lock, which it never took) or in a
    /// false "all goroutines are asleep - deadlock!" with both goroutines waiting on ping.
    /// </summary>
    [Fact]
    public void BlockingSelectOverChannelsOfDifferentElementTypesNeverLosesAWakeUp()
    {
        const int rounds = 2_000;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        int done = 0;
        var r = rt.Run(() => Main(v => done = v), TimeSpan.FromSeconds(60));
        Assert.True(r.Succeeded, r.Error?.ToString());
        Assert.Equal(rounds, done);

        static async GoTask Main(Action<int> report)
        {
            var quit = new Chan<bool>();
            var ping = new Chan<int>();
            while (ping.Id < quit.Id) ping = new Chan<int>();
            while (quit.Id < ping.Id) quit = new Chan<bool>();
            var pong = new Chan<int>();
            Echo(ping, pong);
            int n = 0;
            while (n < rounds)
            {
                var sel = Go.Select();
                var q = sel.Recv(quit);
                sel.Send(ping, n);
                if (await sel == q.Index) break;
                await pong.Recv();
                n++;
            }
            ping.Close();
            report(n);
        }

        static async GoTask Echo(Chan<int> ping, Chan<int> pong)
        {
            while (true)
            {
                var (v, ok) = await ping.RecvOk();
                if (!ok) return;
                await pong.Send(v);
            }
        }
    }

    /// <summary>
    /// Select's first pass completes with a goroutine already blocked on the other side (a
    /// receiver, a sender on an unbuffered channel, a sender on a full buffer) and must ready it
    /// only after dropping every channel lock it took, as Go's selectgo does (selunlock is send's
    /// and recv's unlockf). The tests run with ChanLockCheck on, so Ready throws if any channel
    /// lock is still held: before, the case's own lock was dropped and the others were still held.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SelectReadiesTheGoroutineItCompletesWithOnlyAfterDroppingEveryLock(int procs)
    {
        const int rounds = 200;
        Assert.True(ChanLockCheck.Enabled, "the test project's runtimeconfig sets GoSched.CheckChanLocks");
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0"));
        int done = 0;
        var r = rt.Run(() => Main(v => done = v), TimeSpan.FromSeconds(60));
        Assert.True(r.Succeeded, r.Error?.ToString());
        Assert.Equal(3 * rounds, done);

        static async GoTask Main(Action<int> report)
        {
            var other = new Chan<int>();
            var unbuffered = new Chan<int>();
            var full = new Chan<int>(1);
            var wg = new WaitGroup();
            int n = 0;
            for (int i = 0; i < rounds; i++)
            {
                // A receiver blocked on unbuffered: the select's send case hands it the value.
                wg.Add(1);
                Receiver(unbuffered, wg);
                await Go.Gosched(); // let it block first (at gomaxprocs=1 it runs before we return)
                var s1 = Go.Select();
                s1.Recv(other);
                int send = s1.Send(unbuffered, i);
                if (await s1 == send) n++;
                await wg.Wait();

                // A sender blocked on unbuffered: the select's receive case takes its value.
                Sender(unbuffered, i);
                await Go.Gosched();
                var s2 = Go.Select();
                s2.Recv(other);
                var r2 = s2.Recv(unbuffered);
                if (await s2 == r2.Index && r2.Value == i) n++;

                // A sender blocked on a full buffer: the receive case takes the head and its value.
                await full.Send(-1);
                Sender(full, i);
                await Go.Gosched();
                var s3 = Go.Select();
                var r3 = s3.Recv(full);
                s3.Recv(other);
                if (await s3 == r3.Index && r3.Value == -1 && await full.Recv() == i) n++;
            }
            report(n);
        }

        static async GoTask Receiver(Chan<int> c, WaitGroup wg)
        {
            await c.Recv();
            wg.Done();
        }

        static async GoTask Sender(Chan<int> c, int v) => await c.Send(v);
    }
}
