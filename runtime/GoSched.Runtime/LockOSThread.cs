// Locked threads: a goroutine wired to its OS thread (LockOSThread, proc.go startlockedm /
// stoplockedm).
//
// While a goroutine is locked, it runs only on its M, and that M runs nothing else. When the
// goroutine blocks, its M has nothing it may run: it hands its P off (stoplockedm) and sleeps,
// counted as "idle locked" so that checkdead does not count it as running. When the goroutine
// becomes runnable again it sits in some run queue like any other; the M that dequeues it cannot
// run it, so it gives its own P to the locked M, wakes it, and parks itself (startlockedm). A
// goroutine that exits while locked takes its thread with it: the M hands its P off and ends, as
// Go does, because the goroutine may have left the thread in a state nobody else should inherit.
namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>Wires the calling goroutine to its M. Nested calls count. Mirrors runtime.LockOSThread (lockOSThread).</summary>
    internal static void LockOSThread(G gp)
    {
        M mp = gp.M!;
        if (gp.LockedCount == int.MaxValue) throw new InvalidOperationException("LockOSThread nesting overflow");
        gp.LockedCount++;
        gp.LockedM = mp;
        mp.LockedG = gp;
    }

    /// <summary>Undoes one LockOSThread; the wire is cut when the count reaches 0. Mirrors runtime.UnlockOSThread (dounlockOSThread).</summary>
    internal static void UnlockOSThread(G gp)
    {
        if (gp.LockedCount == 0) return; // Go: unlocking an unlocked goroutine is a no-op
        if (--gp.LockedCount != 0) return;
        gp.M!.LockedG = null;
        gp.LockedM = null;
    }

    /// <summary>
    /// Schedules the locked M to run the locked goroutine gp: hands it our P, wakes it, and parks
    /// this M. Returns false if the runtime is stopping. Mirrors runtime.startlockedm.
    /// </summary>
    private bool StartLockedM(M mp, G gp)
    {
        M mp2 = gp.LockedM!;
        if (mp2 == mp) Throw("startlockedm: locked to me");
        if (mp2.NextP != null) Throw("startlockedm: m has p");
        // Directly hand off the current P to the locked M.
        using (_sched.Lock.EnterScope())
        {
            _sched.NmIdleLocked--;
            _sched.IdleLocked.Remove(mp2);
        }
        P pp = ReleaseP(mp);
        mp2.NextP = pp;
        mp2.Park.Wakeup();
        return StopM(mp);
    }

    /// <summary>
    /// Stops execution of the current M, whose goroutine is locked, until that goroutine is
    /// runnable again: hands the P off, sleeps, and comes back with the P startlockedm gave it.
    /// Returns false if the runtime is stopping. Mirrors runtime.stoplockedm.
    /// </summary>
    private bool StopLockedM(M mp)
    {
        if (mp.LockedG == null || mp.LockedG.LockedM != mp) Throw("stoplockedm: inconsistent locking");
        if (mp.P != null)
        {
            // Schedule another M to run this P.
            HandoffP(ReleaseP(mp));
        }
        using (_sched.Lock.EnterScope())
        {
            if (_stopping) return false;
            _sched.NmIdleLocked++;
            _sched.IdleLocked.Add(mp);
            CheckDead();
        }
        // Wait until another thread schedules the locked G again.
        mp.Blocked = true;
        mp.Park.Sleep();
        mp.Park.Clear();
        mp.Blocked = false;
        if (_stopping) return false;
        // startlockedm hands over a P only for a runnable locked goroutine.
        if (mp.LockedG is not { } lockedg || lockedg.Status != GStatus.Runnable)
            Throw($"stoplockedm: not runnable (locked goroutine {mp.LockedG?.Goid} in status {mp.LockedG?.Status})");
        AcquireNextP(mp);
        return true;
    }

    /// <summary>
    /// A goroutine exited while locked: this M ends with it. Its P goes to another M.
    /// Mirrors the locked branch of runtime.goexit0 (gogo to mstart, which calls mexit).
    /// </summary>
    private void MExitLocked(M mp)
    {
        // Release the P.
        HandoffP(ReleaseP(mp));
        // Invoke the deadlock detector. This must happen after handoffp because it may have
        // started a new M to take our P's work (mexit); if this M was the last one running, no
        // other would ever notice that every goroutine left is blocked.
        using (_sched.Lock.EnterScope())
        {
            _sched.NmFreed++;
            CheckDead();
        }
    }
}

public static partial class Go
{
    /// <summary>runtime.LockOSThread: this goroutine runs only on its current thread, and the thread runs nothing else, until as many UnlockOSThread calls.</summary>
    public static void LockOSThread() => GoRuntime.LockOSThread(GoRuntime.CurrentG("Go.LockOSThread"));

    /// <summary>runtime.UnlockOSThread: undoes one LockOSThread.</summary>
    public static void UnlockOSThread() => GoRuntime.UnlockOSThread(GoRuntime.CurrentG("Go.UnlockOSThread"));
}
