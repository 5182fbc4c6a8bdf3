// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cocoon.State;

/// <summary>
/// The CID table of <c>vsock/cids.json</c> (<c>{"cid": "box"}</c>), kept sorted by CID. Every
/// allocation reads, changes and writes it while it holds the table's lock, so it is read and written
/// by hand (<see cref="Converter"/>): no dictionary to hash, no sort, little code and data to touch
/// while other processes wait.
/// </summary>
[JsonConverter(typeof(Converter))]
internal sealed class CidTable
{
    private readonly List<uint> _cids = [];
    private readonly List<string> _owners = [];

    /// <summary>The table as CID to box name.</summary>
    public IReadOnlyDictionary<uint, string> ToDictionary()
    {
        var result = new Dictionary<uint, string>(_cids.Count);
        for (var i = 0; i < _cids.Count; i++)
        {
            result[_cids[i]] = _owners[i];
        }

        return result;
    }

    /// <summary>Records <paramref name="cid"/> as held by <paramref name="owner"/> (it must be free).</summary>
    public void Add(uint cid, string owner)
    {
        if (!TryInsert(cid, owner))
        {
            throw new InvalidOperationException($"CID {cid} is already held by '{_owners[_cids.BinarySearch(cid)]}'");
        }
    }

    // Keeps the lists sorted; false when cid is held already. A CID above every held one (each entry of a
    // file this table wrote, in order) is appended without a search.
    private bool TryInsert(uint cid, string owner)
    {
        var index = _cids.Count == 0 || _cids[^1] < cid ? ~_cids.Count : _cids.BinarySearch(cid);
        if (index >= 0)
        {
            return false;
        }

        _cids.Insert(~index, cid);
        _owners.Insert(~index, owner);
        return true;
    }

    /// <summary>Frees <paramref name="cid"/> when <paramref name="owner"/> holds it.</summary>
    public bool Remove(uint cid, string owner)
    {
        var index = _cids.BinarySearch(cid);
        if (index < 0 || _owners[index] != owner)
        {
            return false;
        }

        _cids.RemoveAt(index);
        _owners.RemoveAt(index);
        return true;
    }

    /// <summary>Frees every CID <paramref name="owner"/> holds; returns how many.</summary>
    public int RemoveAll(string owner)
    {
        var removed = 0;
        for (var i = _cids.Count - 1; i >= 0; i--)
        {
            if (_owners[i] == owner)
            {
                _cids.RemoveAt(i);
                _owners.RemoveAt(i);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The lowest CID in [<paramref name="first"/>, <paramref name="last"/>] nobody holds; null when all are held.</summary>
    public uint? LowestFree(uint first, uint last)
    {
        // The CIDs are sorted: walk up from first, the first gap is the answer.
        var candidate = (ulong)first;
        var index = _cids.BinarySearch(first);
        for (index = index < 0 ? ~index : index; index < _cids.Count && _cids[index] == candidate; index++)
        {
            candidate++;
        }

        return candidate <= last ? (uint)candidate : null;
    }

    /// <summary>Reads and writes the table as <c>{"cid": "box", ...}</c>, CIDs as decimal property names.</summary>
    internal sealed class Converter : JsonConverter<CidTable>
    {
        public override CidTable Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("the CID table is not an object of \"cid\": \"box\"");
            }

            var table = new CidTable();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.ValueIsEscaped ? reader.GetString() : null;
                var parsed = key is null
                    ? uint.TryParse(reader.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var cid)
                    : uint.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out cid);
                if (!parsed)
                {
                    throw new JsonException($"'{key ?? reader.GetString()}' in the CID table is not a CID");
                }

                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    throw new JsonException($"CID {cid} in the CID table has no box name");
                }

                if (!table.TryInsert(cid, reader.GetString()!))
                {
                    throw new JsonException($"CID {cid} appears twice in the CID table");
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                throw new JsonException("the CID table is not an object of \"cid\": \"box\"");
            }

            return table;
        }

        public override void Write(Utf8JsonWriter writer, CidTable value, JsonSerializerOptions options)
        {
            Span<byte> name = stackalloc byte[10];
            writer.WriteStartObject();
            for (var i = 0; i < value._cids.Count; i++)
            {
                value._cids[i].TryFormat(name, out var written, default, CultureInfo.InvariantCulture);
                writer.WriteString(name[..written], value._owners[i]);
            }

            writer.WriteEndObject();
        }
    }
}
