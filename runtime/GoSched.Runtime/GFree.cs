// Free Gs: dead goroutines kept for reuse, with their bodies ("stacks").
//
// Each P keeps a local free list; when it reaches 64 it moves Gs to the global list until 31 are
// left, and an empty local list takes a batch of up to 32 from the global one, so the global lock
// is taken once per batch rather than once per goroutine. Gs with a body are preferred, as Go
// prefers Gs with a stack.
//
// Differs from Go: the lists are stacks in arrays (GStack), not lists linked through g.schedlink.
// The protocol is Go's (LIFO, the 64/32 batches, the two global lists); only what a batch move
// touches differs. A burst of 100,000 goroutines leaves 100,000 dead Gs, long out of the caches,
// on the global list; moving 32 of them to a P by popping a linked list reads each G's link, one
// cache miss after the other (each address comes from the previous miss), and gfget's refill was
// 13% of the spawn benchmark's time at GOMAXPROCS=1. Moving 32 array slots reads 4 cache lines and
// no G at all; a G is first touched when newproc takes it, by a miss that does not wait on another.
namespace GoSched;

/// <summary>A stack of Gs in an array (a free list); grows if the capacity given is exceeded. Not thread-safe: its owner's lock or owner P guards it.</summary>
internal struct GStack(int capacity)
{
    private G?[] _items = new G?[capacity];
    private int _count;

    public readonly int Count => _count;

    public void Push(G gp)
    {
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_count++] = gp;
    }

    /// <summary>The G depth places below the top (0: the next Pop's), or null.</summary>
    public readonly G? Peek(int depth) => depth < _count ? _items[_count - 1 - depth] : null;

    public G? Pop()
    {
        if (_count == 0) return null;
        G? gp = _items[--_count];
        _items[_count] = null;
        return gp;
    }

    /// <summary>Drops every G (a stopped runtime keeps none alive).</summary>
    public void Clear()
    {
        Array.Clear(_items, 0, _count);
        _count = 0;
    }
}

public sealed partial class GoRuntime
{
    /// <summary>Puts a dead G on pp's free list; spills half to the global list past 64. Owner only. Mirrors runtime.gfput.</summary>
    private void GFPut(P pp, G gp)
    {
        if (gp.Status != GStatus.Dead) Throw("gfput: bad status (not Gdead)");
        pp.GFree.Push(gp);
        if (pp.GFreeCount >= 64)
        {
            // Move a batch of free Gs to the global free list. The top of the stack was freed
            // last, so checking for a body reads Gs still in the cache.
            using (_sched.GFreeLock.EnterScope())
            {
                while (pp.GFreeCount >= 32) GFPutGlobalLocked(pp.GFree.Pop()!);
            }
        }
    }

    /// <summary>Gets a free G from pp's list, refilling it from the global list first if empty. Owner only. Mirrors runtime.gfget.</summary>
    private G? GFGet(P pp)
    {
        if (pp.GFreeCount == 0 && Volatile.Read(ref _sched.GFreeCount) != 0)
        {
            using (_sched.GFreeLock.EnterScope())
            {
                // Move a batch of free Gs to the P, preferring Gs with bodies.
                while (pp.GFreeCount < 32)
                {
                    G? g1 = _sched.GFreeWithBody.Pop() ?? _sched.GFreeNoBody.Pop();
                    if (g1 == null) break;
                    _sched.GFreeCount--;
                    pp.GFree.Push(g1);
                }
            }
        }
        G? gp = pp.GFree.Pop();
        if (gp == null) return null;
        // Ask for what the next two gfgets will touch (see Internal/Prefetch.cs): the G after
        // next, and the body of the next one, whose G the previous call asked for.
        Internal.Prefetch.Lines(pp.GFree.Peek(1), 2);
        if (pp.GFree.Peek(0) is { } next) Internal.Prefetch.Lines(next.Body, 2);
        return gp;
    }

    /// <summary>Puts a dead G on the global free list its body decides. sched.gFree's lock must be held.</summary>
    private void GFPutGlobalLocked(G gp)
    {
        AssertLockHeld(ref _sched.GFreeLock);
        if (gp.Body != null) _sched.GFreeWithBody.Push(gp);
        else _sched.GFreeNoBody.Push(gp);
        _sched.GFreeCount++;
    }

    /// <summary>Gets a free G from the global list only (a spawn from a thread with no P).</summary>
    private G? GFGetGlobal()
    {
        using (_sched.GFreeLock.EnterScope())
        {
            G? gp = _sched.GFreeWithBody.Pop() ?? _sched.GFreeNoBody.Pop();
            if (gp != null) _sched.GFreeCount--;
            return gp;
        }
    }
}
