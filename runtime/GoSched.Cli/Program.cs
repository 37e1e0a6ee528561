// gosched: the workbench's command line. A thin layer over the runtime's public API.
using System.CommandLine;
using GoSched.Cli;

// SIGINT and SIGTERM are the commands' own to handle (Interruption: run and notebook stop, report
// and exit 130 or 143); System.CommandLine's handler would cancel only asynchronous commands and
// then exit without waiting for what they report.
return await CliApp.Build(Console.Out, Console.Error, interruption: new Interruption(posix: true)).Parse(args)
    .InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
