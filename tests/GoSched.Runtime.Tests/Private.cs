// Calls GoRuntime's private methods by their Go-mirroring names, for tests that drive the
// scheduler's internals by hand on a runtime whose Ms do not run. Internal methods are called
// directly; these the runtime keeps private, so a renamed one fails the test with its name.
using System.Reflection;
using System.Runtime.ExceptionServices;

namespace GoSched.Tests;

internal static class Private
{
    /// <summary>Calls one of GoRuntime's private methods (instance or static), rethrowing what it throws.</summary>
    public static object? Call(GoRuntime rt, string name, params object?[] args)
    {
        var m = typeof(GoRuntime).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)
            ?? throw new Xunit.Sdk.XunitException($"GoRuntime.{name} not found: the runtime renamed it; update this test");
        try { return m.Invoke(m.IsStatic ? null : rt, args); }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
