// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// Where <c>exec</c>, <c>cp</c> and <c>socket-forward</c> reach into a box: the container
/// <c>--container</c> names; the box's guest itself with <c>--guest</c> (its built-in busybox
/// environment, where every container's processes and the kernel's log can be seen); by default the
/// first running container of a box that runs containers, else the guest.
/// </summary>
internal sealed class ContainerTarget
{
    private readonly Option<string> _container;
    private readonly Option<bool> _guest;

    /// <param name="containerDescription">The help of <c>--container</c>, in the command's words, without the default or a final period.</param>
    public ContainerTarget(string containerDescription)
    {
        _container = new("--container", "-c") { Description = $"{containerDescription} [default: the box's first running container, if it has one]." };
        _guest = new("--guest") { Description = "Reach the box's guest itself (its built-in busybox environment), not a container." };
    }

    /// <summary>Adds both options to <paramref name="command"/>, and a usage error when both are given.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_container);
        command.Options.Add(_guest);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_guest) && result.GetValue(_container) is { } container)
            {
                result.AddError($"--guest and --container '{container}' name two places: give one");
            }
        });
    }

    /// <summary>The container to reach in <paramref name="box"/>; null for its guest.</summary>
    public async Task<string?> ResolveAsync(ParseResult parseResult, CliContext context, Box box, CancellationToken cancellationToken)
    {
        if (parseResult.GetValue(_guest))
        {
            return null;
        }

        if (parseResult.GetValue(_container) is { } container)
        {
            return container;
        }

        // Only a box with an image has containers: the others skip the extra call.
        if (context.Runtime.GetBoxInfo(box.Name).Config.Image is null)
        {
            return null;
        }

        var containers = await box.ListContainersAsync(cancellationToken);
        return containers.FirstOrDefault(c => c.IsRunning)?.Name;
    }
}
