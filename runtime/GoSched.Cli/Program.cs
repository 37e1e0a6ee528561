// gosched: the workbench's command line. A thin layer over the runtime's public API.
using System.CommandLine;
using GoSched.Cli;

return await CliApp.Build(Console.Out, Console.Error).Parse(args).InvokeAsync();
