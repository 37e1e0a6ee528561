// Software prefetch of objects the scheduler will touch soon.
//
// A burst of goroutines leaves many Gs and bodies out of the caches, and each spawn and each run
// first touches one of them. The misses do not overlap by themselves: the lock-prefixed
// instructions between two goroutines (casgstatus, runnext, wakep) wait for every earlier load, so
// each miss costs a full memory latency. Where the next G to be handed out is known ahead (the top
// of a free list), asking for it one goroutine early overlaps its miss with the current one's work.
// A prefetch is only a hint: an object the GC has moved since its address was read costs a useless
// prefetch, never a fault.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace GoSched.Internal;

internal static unsafe class Prefetch
{
    /// <summary>Asks for the first <paramref name="lines"/> cache lines (64 bytes) of o, from its header on; nothing if o is null or the CPU has no prefetch instruction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Lines(object? o, int lines)
    {
        if (!Sse.IsSupported || o == null) return;
        byte* p = (byte*)Unsafe.As<object, nint>(ref o) - sizeof(nint); // the object header precedes the method table
        for (int i = 0; i < lines; i++) Sse.Prefetch0(p + 64 * i);
    }
}
