// Free Gs: dead goroutines kept for reuse, with their bodies ("stacks").
//
// Each P keeps a local free list; when it reaches 64 it moves Gs to the global list until 32 are
// left, and an empty local list takes a batch of up to 32 from the global one, so the global lock
// is taken once per batch rather than once per goroutine. Gs with a body are preferred, as Go
// prefers Gs with a stack.
namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>Puts a dead G on pp's free list; spills half to the global list past 64. Owner only. Mirrors runtime.gfput.</summary>
    private void GFPut(P pp, G gp)
    {
        if (gp.Status != GStatus.Dead) Throw("gfput: bad status (not Gdead)");
        gp.SchedLink = pp.GFreeHead;
        pp.GFreeHead = gp;
        pp.GFreeCount++;
        if (pp.GFreeCount >= 64)
        {
            G? withBody = null, noBody = null;
            int inc = 0;
            while (pp.GFreeCount >= 32)
            {
                G g1 = pp.GFreeHead!;
                pp.GFreeHead = g1.SchedLink;
                pp.GFreeCount--;
                if (g1.Body != null) { g1.SchedLink = withBody; withBody = g1; }
                else { g1.SchedLink = noBody; noBody = g1; }
                inc++;
            }
            using (_sched.GFreeLock.EnterScope())
            {
                PushAll(ref _sched.GFreeWithBody, withBody);
                PushAll(ref _sched.GFreeNoBody, noBody);
                _sched.GFreeCount += inc;
            }
        }
    }

    /// <summary>Gets a free G from pp's list, refilling it from the global list first if empty. Owner only. Mirrors runtime.gfget.</summary>
    private G? GFGet(P pp)
    {
        if (pp.GFreeHead == null && (Volatile.Read(ref _sched.GFreeWithBody) != null || Volatile.Read(ref _sched.GFreeNoBody) != null))
        {
            using (_sched.GFreeLock.EnterScope())
            {
                // Move a batch of free Gs to the P, preferring Gs with bodies.
                while (pp.GFreeCount < 32)
                {
                    G? g1 = _sched.GFreeWithBody;
                    if (g1 != null) _sched.GFreeWithBody = g1.SchedLink;
                    else
                    {
                        g1 = _sched.GFreeNoBody;
                        if (g1 == null) break;
                        _sched.GFreeNoBody = g1.SchedLink;
                    }
                    _sched.GFreeCount--;
                    g1.SchedLink = pp.GFreeHead;
                    pp.GFreeHead = g1;
                    pp.GFreeCount++;
                }
            }
        }
        G? gp = pp.GFreeHead;
        if (gp == null) return null;
        pp.GFreeHead = gp.SchedLink;
        gp.SchedLink = null;
        pp.GFreeCount--;
        return gp;
    }

    /// <summary>Gets a free G from the global list only (a spawn from a thread with no P).</summary>
    private G? GFGetGlobal()
    {
        using (_sched.GFreeLock.EnterScope())
        {
            G? gp = _sched.GFreeWithBody;
            if (gp != null) _sched.GFreeWithBody = gp.SchedLink;
            else
            {
                gp = _sched.GFreeNoBody;
                if (gp == null) return null;
                _sched.GFreeNoBody = gp.SchedLink;
            }
            _sched.GFreeCount--;
            gp.SchedLink = null;
            return gp;
        }
    }

    private static void PushAll(ref G? head, G? list)
    {
        while (list != null)
        {
            G? next = list.SchedLink;
            list.SchedLink = head;
            head = list;
            list = next;
        }
    }
}
