// Copyright (c) Cocoon contributors. Licensed under the MIT License.

// Worker modes (all against the state root given as the second argument):
//   churn ROOT ID ITERATIONS   create box w<ID>-<i>, check its CID is held only by it, remove it
//   crash ROOT                 update state in a loop until killed
//   accel QEMU KERNEL CACHE    print the accelerator verdict "<accelerator>: <reason>" for QEMU and KERNEL
using System.Globalization;
using Cocoon;
using Cocoon.State;
using Cocoon.Vmm;

if (args is ["accel", var qemu, var kernel, var cache])
{
    var choice = await AcceleratorProbe.ChooseAsync(qemu, kernel, cache);
    Console.WriteLine($"{choice.Accelerator}: {choice.Reason}");
    return 0;
}

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Cocoon.Tests.Worker churn ROOT ID ITERATIONS | crash ROOT");
    return 2;
}

var paths = new CocoonPaths(args[1]);
var boxes = new BoxRepository(paths);
switch (args[0])
{
    case "churn":
        {
            var id = args[2];
            var iterations = int.Parse(args[3], CultureInfo.InvariantCulture);
            for (var i = 0; i < iterations; i++)
            {
                var name = $"w{id}-{i}";
                var record = boxes.Create(new BoxOptions(name).Build());

                // While this box lives, nobody else may hold its CID: not in the table, not in a box.json.
                var table = boxes.Cids.Snapshot();
                if (!table.TryGetValue(record.Cid, out var owner) || owner != name)
                {
                    Console.Error.WriteLine($"CID {record.Cid} of {name} is held by '{owner}' in cids.json");
                    return 1;
                }

                var twins = boxes.List().Where(b => b.Cid == record.Cid && b.Name != name).Select(b => b.Name).ToList();
                if (twins.Count > 0)
                {
                    Console.Error.WriteLine($"CID {record.Cid} of {name} is also held by {string.Join(", ", twins)}");
                    return 1;
                }

                boxes.Remove(name);
            }

            return 0;
        }

    case "crash":
        {
            if (boxes.TryGet("victim") is null)
            {
                boxes.Create(new BoxOptions("victim").Build());
            }

            Console.Out.WriteLine("ready");
            Console.Out.Flush();
            for (var i = 0; ; i++)
            {
                boxes.Update("victim", r => r with { Pid = i, State = BoxState.Running, StopReason = $"iteration {i}" });
                var cid = boxes.Cids.Allocate("churn");
                boxes.Cids.Release(cid, "churn");
            }
        }

    default:
        Console.Error.WriteLine($"unknown mode '{args[0]}'");
        return 2;
}
