// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Device.VhostUser;

/// <summary>Front-end request ids (qemu docs/interop/vhost-user.rst, "Front-end message types").</summary>
internal enum VhostUserRequest : uint
{
    None = 0,
    GetFeatures = 1,
    SetFeatures = 2,
    SetOwner = 3,
    ResetOwner = 4,
    SetMemTable = 5,
    SetLogBase = 6,
    SetLogFd = 7,
    SetVringNum = 8,
    SetVringAddr = 9,
    SetVringBase = 10,
    GetVringBase = 11,
    SetVringKick = 12,
    SetVringCall = 13,
    SetVringErr = 14,
    GetProtocolFeatures = 15,
    SetProtocolFeatures = 16,
    GetQueueNum = 17,
    SetVringEnable = 18,
    SendRarp = 19,
    NetSetMtu = 20,
    SetBackendReqFd = 21,
    IotlbMsg = 22,
    SetVringEndian = 23,
    GetConfig = 24,
    SetConfig = 25,
    ResetDevice = 34,
    GetMaxMemSlots = 36,
    AddMemReg = 37,
    RemMemReg = 38,
    SetStatus = 39,
    GetStatus = 40,
}

/// <summary>Feature and flag bits the device uses.</summary>
internal static class VhostUserFeatures
{
    internal const ulong NotifyOnEmpty = 1UL << 24;
    internal const ulong RingEventIdx = 1UL << 29;
    internal const ulong ProtocolFeatures = 1UL << 30;
    internal const ulong Version1 = 1UL << 32;

    /// <summary>What we offer: VERSION_1 | PROTOCOL_FEATURES | EVENT_IDX.</summary>
    internal const ulong Offered = Version1 | ProtocolFeatures | RingEventIdx;

    internal const ulong ProtocolMq = 1UL << 0;
    internal const ulong ProtocolReplyAck = 1UL << 3;
    internal const ulong ProtocolConfig = 1UL << 9;

    /// <summary>Protocol features we offer: MQ | REPLY_ACK | CONFIG (0x209).</summary>
    internal const ulong OfferedProtocol = ProtocolMq | ProtocolReplyAck | ProtocolConfig;

    internal const uint FlagVersion = 0x1;
    internal const uint FlagVersionMask = 0x3;
    internal const uint FlagReply = 0x4;
    internal const uint FlagNeedReply = 0x8;

    /// <summary>Vring fd payload: "no fd" bit (polling).</summary>
    internal const ulong VringNoFd = 0x100;
    internal const ulong VringIndexMask = 0xFF;

    /// <summary>Queues we report and accept (rx, tx, event).</summary>
    internal const int QueueCount = 3;
}
