// Copyright (c) Cocoon contributors. Licensed under the MIT License.

// Says "ready", then waits for a line on stdin and exits: the resident memory of a NativeAOT
// process that has done nothing yet, the floor under any NativeAOT supervisor.
Console.Out.WriteLine("ready");
Console.Out.Flush();
Console.In.ReadLine();
return 0;
