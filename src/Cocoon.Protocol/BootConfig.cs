// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Cocoon.Protocol.Internal;

namespace Cocoon.Protocol;

/// <summary>
/// The one document the host hands the guest agent at boot. It travels on the kernel command line as
/// <c>cocoon.boot=&lt;base64url(JSON)&gt;</c>; the JSON uses snake_case names, omits unset optional
/// fields and ignores unknown ones, so an older agent boots with a newer host's document.
/// </summary>
/// <remarks>New fields must be optional (nullable) so that an older agent can ignore them.</remarks>
public sealed class BootConfig
{
    /// <summary>The kernel command-line key that carries the document.</summary>
    public const string KernelArgumentKey = "cocoon.boot";

    /// <summary>
    /// The longest <c>cocoon.boot=…</c> argument allowed, in bytes. The x86 kernel command line holds
    /// 2048 bytes; the rest is left for console, root and the VMM's own arguments. Keep module paths
    /// short (for example <c>/lib/modules/m/vsock.ko</c>) to stay under it.
    /// </summary>
    public const int MaxKernelArgumentLength = 1536;

    /// <summary>The guest's hostname; unset leaves the kernel's default.</summary>
    public string? Hostname { get; init; }

    /// <summary>Absolute guest paths of the <c>.ko</c> files to load, in load order.</summary>
    public IReadOnlyList<string> Modules { get; init; } = [];

    /// <summary>
    /// virtio-fs shares to mount before anything runs, in order; unset means none. The agent mounts
    /// each tag at <see cref="BootVolume.Path"/> and fails the boot step visibly when one cannot be mounted.
    /// </summary>
    public IReadOnlyList<BootVolume>? Volumes { get; init; }

    /// <summary>The agent's log level (<c>trace</c>, <c>debug</c>, <c>information</c>, <c>warning</c>, <c>error</c>); unset means quiet.</summary>
    public string? LogLevel { get; init; }

    /// <summary>The network interface to configure; unset means the box has only loopback (<c>--network none</c>).</summary>
    public BootNetwork? Network { get; init; }

    /// <summary>
    /// Block devices the agent mounts once it serves, on a thread of its own, after loading
    /// <see cref="DiskModules"/>; a container waits for them. Unset for none.
    /// </summary>
    public IReadOnlyList<BootDisk>? Disks { get; init; }

    /// <summary>
    /// Absolute guest paths of the <c>.ko</c> files that only <see cref="Disks"/> and the containers on
    /// them need (the block driver, overlayfs), in load order: loaded with the disks, after
    /// <see cref="Modules"/>, so the agent serves without waiting for them. Unset for none.
    /// </summary>
    public IReadOnlyList<string>? DiskModules { get; init; }

    /// <summary>Serializes the document as UTF-8 JSON.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, BootConfigJsonContext.Default.BootConfig);

    /// <summary>Parses a JSON document; unknown fields are ignored.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The parsed document.</returns>
    /// <exception cref="CocoonException">The text is not a valid boot configuration.</exception>
    public static BootConfig FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, BootConfigJsonContext.Default.BootConfig)
                ?? throw new CocoonException(CocoonErrorCode.InvalidArgument, "The boot configuration is JSON null; expected an object.");
        }
        catch (JsonException ex)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The boot configuration is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Encodes the document as one kernel command-line argument, <c>cocoon.boot=&lt;base64url(JSON)&gt;</c>.</summary>
    /// <returns>The argument, without spaces or quotes.</returns>
    /// <exception cref="CocoonException">The argument would be longer than <see cref="MaxKernelArgumentLength"/>.</exception>
    public string ToKernelArgument()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(this, BootConfigJsonContext.Default.BootConfig);
        var argument = KernelArgumentKey + "=" + Base64Url.EncodeToString(json);
        if (argument.Length > MaxKernelArgumentLength)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"The boot configuration encodes to {argument.Length} bytes on the kernel command line, more than the {MaxKernelArgumentLength} allowed " +
                $"({json.Length} bytes of JSON, {Modules.Count} modules). Use shorter module paths, or fewer modules or volumes.");
        }

        return argument;
    }

    /// <summary>Finds and decodes the <c>cocoon.boot=</c> argument in a kernel command line (the text of <c>/proc/cmdline</c>).</summary>
    /// <param name="commandLine">The whole kernel command line.</param>
    /// <returns>The document, or null when the command line has no <c>cocoon.boot=</c> argument.</returns>
    /// <exception cref="CocoonException">The argument is too long, not base64url or not a valid document.</exception>
    public static BootConfig? FromKernelCommandLine(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        const string Prefix = KernelArgumentKey + "=";
        foreach (var token in commandLine.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!token.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (token.Length > MaxKernelArgumentLength)
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidArgument,
                    $"The {KernelArgumentKey} argument is {token.Length} bytes, more than the {MaxKernelArgumentLength} allowed.");
            }

            var encoded = token.AsSpan(Prefix.Length);
            byte[] json;
            try
            {
                json = Base64Url.DecodeFromChars(encoded);
            }
            catch (FormatException ex)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The {KernelArgumentKey} argument is not base64url: {ex.Message}", ex);
            }

            return FromJson(json);
        }

        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(this, BootConfigJsonContext.Default.BootConfig));
}

/// <summary>One virtio-fs share the agent mounts at boot.</summary>
/// <param name="Tag">The virtio-fs tag QEMU's <c>vhost-user-fs</c> device carries (<c>cocoon-vol-N</c>).</param>
/// <param name="Path">The absolute guest path it appears at.</param>
/// <param name="ReadOnly">Mount read-only.</param>
public sealed record BootVolume(string Tag, string Path, bool ReadOnly = false)
{
    /// <summary>The tag of the volume at <paramref name="index"/> in the box's configuration.</summary>
    /// <param name="index">The volume's position, from 0.</param>
    /// <returns>For example <c>cocoon-vol-0</c>.</returns>
    public static string TagFor(int index) => "cocoon-vol-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A virtio block device the agent mounts at boot. The host gives each disk a serial number and the
/// agent finds the device whose <c>/sys/block/vd*/serial</c> matches, so the order devices probe in
/// does not matter.
/// </summary>
public sealed record BootDisk
{
    /// <summary>The device's virtio serial (at most 20 bytes).</summary>
    public required string Serial { get; init; }

    /// <summary>The absolute guest path to mount it on (created when missing).</summary>
    public required string MountPoint { get; init; }

    /// <summary>The file system type, for example <c>ext4</c>.</summary>
    public string FsType { get; init; } = "ext4";

    /// <summary>Whether to mount it read-only.</summary>
    public bool ReadOnly { get; init; }
}
