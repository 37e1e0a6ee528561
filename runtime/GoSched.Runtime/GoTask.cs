// GoTask and GoFrame: the two task-like types goroutine code is written with.
//
// `async GoTask F(...)` is a goroutine body: calling F is Go's `go F(...)`. The builder's Start
// does not run the body; it boxes the state machine into a G (reusing a dead G and, when the body
// type matches, its box: newproc + gfget) and queues it. GoTask is not awaitable, so `await F()`
// does not compile: a goroutine is not a call.
//
// `async GoFrame H(...)` / `async GoFrame<T> H(...)` is an ordinary call frame inside a goroutine
// that may block. It runs synchronously on the caller's thread; only if it suspends is its state
// machine boxed (then the G resumes that box, and the box resumes its parent through the M loop
// when it finishes, see Proc.cs). A frame that never blocks allocates nothing, and one that does
// reuses a box: the parent's await takes the result and hands the box back to a free list of its
// M thread (FramePool). Each reuse bumps the box's version, and a GoFrame remembers the version it
// was made with, so awaiting one GoFrame twice is an error rather than a read of someone else's
// result.
//
// Every await inside a goroutine must be a runtime await (IGoAwaiter): the builders reject any
// other awaiter with a GoUsageException that says what to use instead. An await of a .NET Task
// would resume the body on a thread-pool thread, outside the scheduler.
using System.Runtime.CompilerServices;

namespace GoSched;

/// <summary>Marks the runtime's awaiters; the builders reject all others.</summary>
public interface IGoAwaiter : ICriticalNotifyCompletion
{
}

/// <summary>The handle a goroutine body returns: its goroutine id. Not awaitable by design.</summary>
[AsyncMethodBuilder(typeof(GoTaskMethodBuilder))]
public readonly struct GoTask
{
    internal GoTask(long goid) { Goid = goid; }

    /// <summary>The id of the goroutine started (goid).</summary>
    public long Goid { get; }
}

/// <summary>The async method builder of goroutine bodies. Not for direct use.</summary>
public struct GoTaskMethodBuilder
{
    private long _goid;

    public static GoTaskMethodBuilder Create() => default;

    public GoTask Task => new(_goid);

    /// <summary>newproc: box the body into a G and queue it; the body runs later on some M.</summary>
    public void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        _goid = GoRuntime.Spawn(ref stateMachine);
    }

    public void SetStateMachine(IAsyncStateMachine stateMachine) { }

    /// <summary>The body returned: goexit.</summary>
    public void SetResult()
    {
        var gp = GoRuntime.BuilderG("a goroutine body");
        if (gp.Outcome != GOutcome.None)
        {
            // It returned with a park recorded by a GoFrame call it did not await.
            SetException(GoRuntime.NotAwaited(gp, "a goroutine body's return"));
            return;
        }
        gp.Outcome = GOutcome.Exit;
    }

    /// <summary>
    /// An exception escaped the body: Go's unrecovered panic. The world is frozen here, at once
    /// (fatalpanic's startpanic_m): from now on no M resumes another goroutine (Proc.cs's Execute).
    /// </summary>
    public void SetException(Exception exception)
    {
        var gp = GoRuntime.BuilderG("a goroutine body");
        if (gp.Outcome != GOutcome.None) GoRuntime.NotAwaited(gp, "a goroutine body's exception"); // releases a dropped frame's park lock
        var panic = exception is RuntimeInvariantException ? exception : new GoroutinePanicException(gp.Goid, exception);
        gp.Runtime.FreezeTheWorld(panic);
        gp.Panic = panic;
        gp.Outcome = GOutcome.Panic;
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine
        => Suspend(ref awaiter);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine
        => Suspend(ref awaiter);

    private static void Suspend<TAwaiter>(ref TAwaiter awaiter)
    {
        if (FrameAwaiter<TAwaiter>.BoxOf is { } boxOf) boxOf(ref awaiter)!.Parent = GoRuntime.BuilderG("a goroutine body").Body!;
        // A runtime primitive: the root body is the resume point. gp.Top is null or the body
        // already (a child frame's Finish sets it to its parent), so nothing to record.
        else if (awaiter is not IGoAwaiter) throw GoRuntime.ForeignAwait(awaiter);
    }
}

/// <summary>Awaiters of GoFrames: when the frame suspended, its parent registers as its continuation.</summary>
internal interface IGoFrameAwaiter
{
}

/// <summary>Reads the box out of a GoFrame awaiter (FrameBox.Parent is set through it).</summary>
internal delegate FrameBox? FrameBoxGetter<TAwaiter>(ref TAwaiter awaiter);

/// <summary>
/// Per awaiter type, how to reach a GoFrame awaiter's box without boxing the awaiter: a builder's
/// `awaiter is IGoFrameAwaiter f` followed by a call on f would allocate a copy of the struct at
/// every suspension. Null for the runtime's primitive awaiters. Made once per type, by reflection
/// on the awaiter's static BoxOf.
/// </summary>
internal static class FrameAwaiter<TAwaiter>
{
    public static readonly FrameBoxGetter<TAwaiter>? BoxOf = Make();

    private static FrameBoxGetter<TAwaiter>? Make()
    {
        if (!typeof(IGoFrameAwaiter).IsAssignableFrom(typeof(TAwaiter))) return null;
        var method = typeof(TAwaiter).GetMethod("BoxOf", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"{typeof(TAwaiter)} has no static BoxOf");
        return (FrameBoxGetter<TAwaiter>)Delegate.CreateDelegate(typeof(FrameBoxGetter<TAwaiter>), method);
    }
}

/// <summary>The shared part of a suspended frame: its box, result slot and parent.</summary>
internal abstract class FrameBox : Resumable
{
    public Resumable? Parent;
    public bool Completed;
    public Exception? Exception;
    /// <summary>Bumped each time the box goes back to its free list.</summary>
    public int Version;
    /// <summary>Clears the frame's state and puts the box on its M's free list.</summary>
    public abstract void Recycle();

    /// <summary>The awaiter's check that the box still holds the frame it was given for.</summary>
    public void CheckVersion(int version)
    {
        if (version != Version) throw new GoUsageException("a GoFrame was awaited twice (or after its result was taken): await each call once");
    }

    protected void Reset()
    {
        Parent = null;
        Completed = false;
        Exception = null;
        Version++;
    }

    /// <summary>The frame finished after having suspended: resume the parent from the M loop.</summary>
    public void Finish(Exception? e)
    {
        var gp = GoRuntime.BuilderG("a GoFrame");
        Exception = e;
        Completed = true;
        gp.Top = Parent;
        gp.Outcome = GOutcome.Continue;
    }
}

internal sealed class VoidFrameBox<TStateMachine> : FrameBox where TStateMachine : IAsyncStateMachine
{
    public TStateMachine StateMachine = default!;
    public override void MoveNext() => StateMachine.MoveNext();
    public override Type StateMachineType => typeof(TStateMachine);

    public static VoidFrameBox<TStateMachine> Rent() => FramePool<VoidFrameBox<TStateMachine>>.Rent() ?? new();

    public override void Recycle()
    {
        StateMachine = default!;
        Reset();
        FramePool<VoidFrameBox<TStateMachine>>.Return(this);
    }
}

/// <summary>
/// Free frame boxes of one type, per M thread (a frame's box is rented and returned on whichever M
/// runs its goroutine at the time). Bounded: a burst of suspended frames beyond it is left to the GC.
/// The lists die with their threads, so a stopped runtime keeps none.
/// </summary>
internal static class FramePool<TBox> where TBox : FrameBox
{
    private const int Capacity = 64;

    /// <summary>
    /// One thread static, not two (each read is a call into the TLS helper here). Rent and Return
    /// inline into their callers, the boxes of struct state machines, whose code is made for the
    /// exact type: there the read is the direct kind, where this class's own code, shared by
    /// every box type (all reference types), looked it up through a generic dictionary first.
    /// </summary>
    private sealed class List
    {
        public readonly TBox?[] Items = new TBox?[Capacity];
        public int Count;
    }

    [ThreadStatic] private static List? t_list;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TBox? Rent()
    {
        var list = t_list;
        if (list == null || list.Count == 0) return null;
        var box = list.Items[--list.Count];
        list.Items[list.Count] = null;
        return box;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Return(TBox box)
    {
        var list = t_list ??= new List();
        if (list.Count < Capacity) list.Items[list.Count++] = box;
    }
}

/// <summary>A call frame inside a goroutine that may block and returns nothing.</summary>
[AsyncMethodBuilder(typeof(GoFrameMethodBuilder))]
public readonly struct GoFrame
{
    internal readonly FrameBox? Box;
    internal readonly int Version;
    internal readonly Exception? Exception;
    internal GoFrame(FrameBox? box, Exception? exception) { Box = box; Version = box?.Version ?? 0; Exception = exception; }

    public Awaiter GetAwaiter() => new(this);

    public readonly struct Awaiter(GoFrame frame) : IGoAwaiter, IGoFrameAwaiter
    {
        private readonly GoFrame _frame = frame;

        public bool IsCompleted
        {
            get
            {
                if (_frame.Box == null) return true;
                _frame.Box.CheckVersion(_frame.Version);
                return _frame.Box.Completed;
            }
        }

        public void GetResult()
        {
            var e = _frame.Exception;
            if (_frame.Box is { } box)
            {
                box.CheckVersion(_frame.Version);
                e = box.Exception;
                box.Recycle();
            }
            if (e != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }

        internal static FrameBox? BoxOf(ref Awaiter awaiter) => awaiter._frame.Box;
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

/// <summary>A call frame inside a goroutine that may block and returns a <typeparamref name="T"/>.</summary>
[AsyncMethodBuilder(typeof(GoFrameMethodBuilder<>))]
public readonly struct GoFrame<T>
{
    internal readonly FrameBox? Box;
    internal readonly int Version;
    internal readonly T Result;
    internal readonly Exception? Exception;
    internal GoFrame(FrameBox? box, T result, Exception? exception) { Box = box; Version = box?.Version ?? 0; Result = result; Exception = exception; }

    public Awaiter GetAwaiter() => new(this);

    public readonly struct Awaiter(GoFrame<T> frame) : IGoAwaiter, IGoFrameAwaiter
    {
        private readonly GoFrame<T> _frame = frame;

        public bool IsCompleted
        {
            get
            {
                if (_frame.Box == null) return true;
                _frame.Box.CheckVersion(_frame.Version);
                return _frame.Box.Completed;
            }
        }

        public T GetResult()
        {
            if (_frame.Box == null)
            {
                if (_frame.Exception != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_frame.Exception);
                return _frame.Result;
            }
            var box = _frame.Box;
            box.CheckVersion(_frame.Version);
            var e = box.Exception;
            T result = e == null ? ((IFrameResult<T>)box).GetResult() : default!;
            box.Recycle();
            if (e != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
            return result;
        }

        internal static FrameBox? BoxOf(ref Awaiter awaiter) => awaiter._frame.Box;
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

internal interface IFrameResult<T>
{
    T GetResult();
}

/// <summary>Shared suspend logic of the frame builders.</summary>
internal static class FrameSuspend
{
    /// <summary>
    /// The usage error of a GoFrame method called outside any goroutine, naming the method (RWMutex.Lock,
    /// Cond.Wait, Once.Do, or the user's own helper) from its state machine's compiler-made name,
    /// `&lt;Lock&gt;d__5` nested in the declaring type (`&lt;&lt;Main&gt;g__Init|0_1&gt;d` for a local function or lambda: its method).
    /// </summary>
    public static GoUsageException OutsideGoroutine<TStateMachine>()
    {
        var t = typeof(TStateMachine);
        string n = t.Name;
        int close = n.IndexOf('>');
        int open = close > 0 ? n.LastIndexOf('<', close) : -1;
        string method = open >= 0 ? n[(open + 1)..close] : n;
        string where = t.DeclaringType is { } d ? $"{d.Name}.{method}" : method;
        return new GoUsageException($"{where} (an async GoFrame method) can only run inside a goroutine");
    }

    /// <summary>
    /// Called when a frame's await suspends: make sure the frame is boxed, then either register it as
    /// the parent of a suspended child frame, or make it the G's resume point (a runtime primitive).
    /// </summary>
    public static void Suspend<TAwaiter>(ref TAwaiter awaiter, FrameBox box)
    {
        // A suspended child frame was made inside this goroutine already; only a runtime primitive
        // needs the G (read from the thread only then: a call into the TLS helper here).
        if (FrameAwaiter<TAwaiter>.BoxOf is { } boxOf) boxOf(ref awaiter)!.Parent = box;
        else if (awaiter is IGoAwaiter) GoRuntime.BuilderG("a GoFrame").Top = box;
        else throw GoRuntime.ForeignAwait(awaiter);
    }
}

/// <summary>The async method builder of <see cref="GoFrame"/>. Not for direct use.</summary>
public struct GoFrameMethodBuilder
{
    private FrameBox? _box;
    private Exception? _exception;

    public static GoFrameMethodBuilder Create() => default;

    public GoFrame Task => new(_box, _exception);

    public void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        if (M.t_current?.CurG == null) throw FrameSuspend.OutsideGoroutine<TStateMachine>();
        stateMachine.MoveNext();
    }

    public void SetStateMachine(IAsyncStateMachine stateMachine) { }

    public void SetResult()
    {
        if (_box != null) _box.Finish(null);
    }

    public void SetException(Exception exception)
    {
        if (_box != null) _box.Finish(exception);
        else _exception = exception;
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine
        => AwaitUnsafe(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine
        => AwaitUnsafe(ref awaiter, ref stateMachine);

    private void AwaitUnsafe<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_box == null)
        {
            // First suspension: box the state machine. _box is set on the builder inside the
            // caller's copy first, so the copy in the box and the Task the caller reads agree.
            var box = VoidFrameBox<TStateMachine>.Rent();
            _box = box;
            box.StateMachine = stateMachine;
        }
        FrameSuspend.Suspend(ref awaiter, _box);
    }
}

/// <summary>The async method builder of <see cref="GoFrame{T}"/>. Not for direct use.</summary>
public struct GoFrameMethodBuilder<T>
{
    private FrameBox? _box;
    private T _result;
    private Exception? _exception;

    public static GoFrameMethodBuilder<T> Create() => default;

    public GoFrame<T> Task => new(_box, _result, _exception);

    public void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        if (M.t_current?.CurG == null) throw FrameSuspend.OutsideGoroutine<TStateMachine>();
        stateMachine.MoveNext();
    }

    public void SetStateMachine(IAsyncStateMachine stateMachine) { }

    public void SetResult(T result)
    {
        if (_box != null)
        {
            ((IFrameResultSink<T>)_box).SetResult(result);
            _box.Finish(null);
        }
        else _result = result;
    }

    public void SetException(Exception exception)
    {
        if (_box != null) _box.Finish(exception);
        else _exception = exception;
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine
        => AwaitUnsafe(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine
        => AwaitUnsafe(ref awaiter, ref stateMachine);

    private void AwaitUnsafe<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_box == null)
        {
            var box = TypedFrameBox<TStateMachine, T>.Rent();
            _box = box;
            box.StateMachine = stateMachine;
        }
        FrameSuspend.Suspend(ref awaiter, _box);
    }
}

internal interface IFrameResultSink<T>
{
    void SetResult(T result);
}

internal sealed class TypedFrameBox<TStateMachine, TResult> : FrameBox, IFrameResult<TResult>, IFrameResultSink<TResult>
    where TStateMachine : IAsyncStateMachine
{
    public TStateMachine StateMachine = default!;
    private TResult _result = default!;
    public override void MoveNext() => StateMachine.MoveNext();
    public override Type StateMachineType => typeof(TStateMachine);
    public TResult GetResult() => _result;
    public void SetResult(TResult result) => _result = result;

    public static TypedFrameBox<TStateMachine, TResult> Rent() => FramePool<TypedFrameBox<TStateMachine, TResult>>.Rent() ?? new();

    public override void Recycle()
    {
        StateMachine = default!;
        _result = default!;
        Reset();
        FramePool<TypedFrameBox<TStateMachine, TResult>>.Return(this);
    }
}
