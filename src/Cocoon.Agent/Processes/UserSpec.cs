// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Agent.Processes;

/// <summary>A resolved user to run a process as.</summary>
internal sealed record UserSpec(uint Uid, uint Gid, string? Home)
{
    /// <summary>Resolves "name", "uid" or "uid:gid" (empty means null: stay root) against <paramref name="passwdPath"/>.</summary>
    public static UserSpec? Resolve(string user, string passwdPath = "/etc/passwd")
    {
        if (string.IsNullOrEmpty(user))
        {
            return null;
        }

        var parts = user.Split(':');
        if (parts.Length > 2 || parts[0].Length == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The user '{user}' is not 'name', 'uid' or 'uid:gid'.");
        }

        var entries = ReadPasswd(passwdPath);
        uint uid;
        uint gid;
        string? home = null;
        if (uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out uid))
        {
            var entry = entries.FirstOrDefault(e => e.Uid == uid);
            gid = entry?.Gid ?? uid;
            home = entry?.Home;
        }
        else
        {
            var entry = entries.FirstOrDefault(e => e.Name == parts[0])
                ?? throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The user '{parts[0]}' is not in {passwdPath}; give a numeric uid[:gid] instead.");
            uid = entry.Uid;
            gid = entry.Gid;
            home = entry.Home;
        }

        if (parts.Length == 2 && !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out gid))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The group '{parts[1]}' in user '{user}' is not a numeric gid.");
        }

        return new UserSpec(uid, gid, home);
    }

    private sealed record PasswdEntry(string Name, uint Uid, uint Gid, string Home);

    private static List<PasswdEntry> ReadPasswd(string path)
    {
        var entries = new List<PasswdEntry>();
        if (!File.Exists(path))
        {
            return entries;
        }

        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split(':');
            if (fields.Length >= 6
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
            {
                entries.Add(new PasswdEntry(fields[0], uid, gid, fields[5]));
            }
        }

        return entries;
    }
}
