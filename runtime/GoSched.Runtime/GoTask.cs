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
// when it finishes, see Proc.cs). A frame that never blocks allocates nothing.
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
        _goid = GoRuntime.SpawnTarget().NewProc(ref stateMachine);
    }

    public void SetStateMachine(IAsyncStateMachine stateMachine) { }

    /// <summary>The body returned: goexit.</summary>
    public void SetResult()
    {
        var gp = GoRuntime.CurrentG("a goroutine body");
        gp.Outcome = GOutcome.Exit;
    }

    /// <summary>An exception escaped the body: Go's unrecovered panic.</summary>
    public void SetException(Exception exception)
    {
        var gp = GoRuntime.CurrentG("a goroutine body");
        gp.Panic = exception;
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
        var gp = GoRuntime.CurrentG("a goroutine body");
        if (awaiter is IGoFrameAwaiter frame) frame.SetParent(gp, gp.Body!);
        else if (awaiter is IGoAwaiter) gp.Top = null; // the root body is the resume point
        else throw GoRuntime.ForeignAwait(awaiter);
    }
}

/// <summary>Awaiters of GoFrames: when the frame suspended, its parent registers as its continuation.</summary>
internal interface IGoFrameAwaiter
{
    void SetParent(G gp, IResumable parent);
}

/// <summary>The shared part of a suspended frame: its box, result slot and parent.</summary>
internal abstract class FrameBox : IResumable
{
    public IResumable? Parent;
    public bool Completed;
    public Exception? Exception;
    public abstract void MoveNext();

    /// <summary>The frame finished after having suspended: resume the parent from the M loop.</summary>
    public void Finish(Exception? e)
    {
        var gp = GoRuntime.CurrentG("a GoFrame");
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
}

/// <summary>A call frame inside a goroutine that may block and returns nothing.</summary>
[AsyncMethodBuilder(typeof(GoFrameMethodBuilder))]
public readonly struct GoFrame
{
    internal readonly FrameBox? Box;
    internal readonly Exception? Exception;
    internal GoFrame(FrameBox? box, Exception? exception) { Box = box; Exception = exception; }

    public Awaiter GetAwaiter() => new(this);

    public readonly struct Awaiter(GoFrame frame) : IGoAwaiter, IGoFrameAwaiter
    {
        public bool IsCompleted => frame.Box == null || frame.Box.Completed;

        public void GetResult()
        {
            var e = frame.Box != null ? frame.Box.Exception : frame.Exception;
            if (e != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }

        void IGoFrameAwaiter.SetParent(G gp, IResumable parent) => frame.Box!.Parent = parent;
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

/// <summary>A call frame inside a goroutine that may block and returns a <typeparamref name="T"/>.</summary>
[AsyncMethodBuilder(typeof(GoFrameMethodBuilder<>))]
public readonly struct GoFrame<T>
{
    internal readonly FrameBox? Box;
    internal readonly T Result;
    internal readonly Exception? Exception;
    internal GoFrame(FrameBox? box, T result, Exception? exception) { Box = box; Result = result; Exception = exception; }

    public Awaiter GetAwaiter() => new(this);

    public readonly struct Awaiter(GoFrame<T> frame) : IGoAwaiter, IGoFrameAwaiter
    {
        public bool IsCompleted => frame.Box == null || frame.Box.Completed;

        public T GetResult()
        {
            if (frame.Box == null)
            {
                if (frame.Exception != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(frame.Exception);
                return frame.Result;
            }
            if (frame.Box.Exception != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(frame.Box.Exception);
            return ((IFrameResult<T>)frame.Box).GetResult();
        }

        void IGoFrameAwaiter.SetParent(G gp, IResumable parent) => frame.Box!.Parent = parent;
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
    /// Called when a frame's await suspends: make sure the frame is boxed, then either register it as
    /// the parent of a suspended child frame, or make it the G's resume point (a runtime primitive).
    /// </summary>
    public static void Suspend<TAwaiter>(ref TAwaiter awaiter, FrameBox box)
    {
        var gp = GoRuntime.CurrentG("a GoFrame");
        if (awaiter is IGoFrameAwaiter frame) frame.SetParent(gp, box);
        else if (awaiter is IGoAwaiter) gp.Top = box;
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
        GoRuntime.CurrentG("a GoFrame (call it from inside a goroutine)");
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
            var box = new VoidFrameBox<TStateMachine>();
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
        GoRuntime.CurrentG("a GoFrame (call it from inside a goroutine)");
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
            var box = new TypedFrameBox<TStateMachine, T>();
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
    public TResult GetResult() => _result;
    public void SetResult(TResult result) => _result = result;
}
