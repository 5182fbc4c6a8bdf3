// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon;
using Cocoon.Cli;

// Started in the background by a shell without job control, cocoon inherits SIGINT ignored, and then
// neither Ctrl-C nor `kill -INT` would end port-forward, socket-forward, logs -f or an attached run.
// Like kubectl and docker, which take SIGINT back when they wait for it, cocoon restores it, before
// .NET's signal handling starts.
Interop.UnignoreSignal(Interop.SIGINT);
return CocoonCli.Run(args, CliContext.FromEnvironment());
