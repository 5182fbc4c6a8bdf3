// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.VhostUser;
using Microsoft.Extensions.Logging;

namespace Cocoon.Vsock.Device.Devices.Vsock;

/// <summary>
/// The device's event loop: one thread, one epoll set holding the stop eventfd, both listening
/// sockets, the front-end connection, the kick eventfds and every host connection. See
/// <see cref="VsockDevice"/> for the overview.
/// </summary>
internal sealed class VsockWorker : IDisposable
{
    private const int MaxEvents = 128;
    private const int TimerTickMs = 100;

    private readonly VsockDeviceOptions _options;
    private readonly ILogger _logger;
    private readonly Epoll _epoll;
    private readonly SafeFdHandle _stop;
    private readonly SafeFdHandle _frontEndListener;
    private readonly SafeFdHandle _hostListener;
    private readonly VsockMuxer _muxer;
    private readonly VhostUserBackend _backend;
    private readonly SafeFdHandle?[] _registeredKicks = new SafeFdHandle?[VhostUserFeatures.QueueCount];
    private readonly List<SafeFdHandle> _messageFds = [];
    private readonly TaskCompletionSource<VsockDeviceExit> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private VhostUserChannel? _channel;
    private bool _sessionStarted;

    public VsockWorker(VsockDeviceOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _epoll = new Epoll();
        try
        {
            _stop = Interop.CreateEventFd();
            _epoll.Add(_stop, Interop.EPOLLIN, EventTokens.Stop);

            Interop.UnlinkIfExists(options.SocketPath);
            _frontEndListener = Interop.CreateUnixSocket();
            Interop.BindAndListen(_frontEndListener, options.SocketPath, 4);
            _epoll.Add(_frontEndListener, Interop.EPOLLIN, EventTokens.FrontEndListener);

            Interop.UnlinkIfExists(options.UdsPath);
            _hostListener = Interop.CreateUnixSocket();
            Interop.BindAndListen(_hostListener, options.UdsPath, 128);
            _epoll.Add(_hostListener, Interop.EPOLLIN, EventTokens.HostListener);
        }
        catch
        {
            _stop?.Dispose();
            _epoll.Dispose();
            if (_frontEndListener != null)
            {
                _frontEndListener.Dispose();
                Interop.UnlinkIfExists(options.SocketPath);
            }

            if (_hostListener != null)
            {
                _hostListener.Dispose();
                Interop.UnlinkIfExists(options.UdsPath);
            }

            throw;
        }

        _backend = new VhostUserBackend(options.GuestCid, logger);
        _muxer = new VsockMuxer(options, _epoll, logger);
        _thread = new Thread(Run) { IsBackground = true, Name = "cocoon-vsock-device" };
    }

    public Task<VsockDeviceExit> Completion => _completion.Task;

    public Task Exited => _exited.Task;

    public int ActiveConnections => _muxer.ActiveConnections;

    public void Start() => _thread.Start();

    public void RequestStop() => Interop.SignalEventFd(_stop);

    private void Run()
    {
        VsockDeviceExit exit;
        try
        {
            exit = Loop();
        }
        catch (Exception e)
        {
            VsockDeviceLog.Failed(_logger, e);
            exit = new VsockDeviceExit(VsockDeviceExitReason.Failed, e.Message);
        }

        try
        {
            CloseSession();
            _frontEndListener.Dispose();
            _hostListener.Dispose();
        }
        catch (Exception e)
        {
            VsockDeviceLog.Failed(_logger, e);
        }

        _completion.TrySetResult(exit);
        _exited.TrySetResult();
    }

    private VsockDeviceExit Loop()
    {
        var events = new Interop.EpollEvent[MaxEvents];
        bool moreWork = false;
        while (true)
        {
            int timeout = moreWork ? 0 : _muxer.ActiveConnections > 0 ? TimerTickMs : -1;
            int n = _epoll.Wait(events, timeout);
            for (int i = 0; i < n; i++)
            {
                ulong token = events[i].Data;
                uint mask = events[i].Events;
                switch (token & EventTokens.KindMask)
                {
                    case EventTokens.Stop:
                        return new VsockDeviceExit(VsockDeviceExitReason.Disposed, null);
                    case EventTokens.FrontEndListener:
                        AcceptFrontEnd();
                        break;
                    case EventTokens.FrontEnd:
                        if (ReadFrontEnd() is { } ended)
                        {
                            return ended;
                        }

                        break;
                    case EventTokens.Kick:
                        int index = (int)(token & 0xFF);
                        if (index < _backend.Queues.Length && _backend.Queues[index].Kick is { } kick)
                        {
                            Interop.DrainEventFd(kick);
                        }

                        break;
                    case EventTokens.HostListener:
                        _muxer.AcceptHost(_hostListener);
                        break;
                    case EventTokens.HostConnection:
                        _muxer.OnHostEvent(token & ~EventTokens.KindMask, mask);
                        break;
                }
            }

            // Always look at both rings: cheap when idle, and it covers kicks lost across ring restarts.
            do
            {
                moreWork = _muxer.ProcessTx();
                moreWork |= _muxer.FillRx();
            }
            while (_muxer.TxBlocked && _muxer.QueuedRsts < VsockMuxer.RstQueueCapacity);

            _muxer.CheckTimers(Environment.TickCount64);
        }
    }

    private void AcceptFrontEnd()
    {
        while (Interop.AcceptNonBlocking(_frontEndListener, out _) is { } fd)
        {
            if (_sessionStarted)
            {
                // One device instance serves one front-end session.
                VsockDeviceLog.SecondFrontEnd(_logger);
                fd.Dispose();
                continue;
            }

            _sessionStarted = true;
            _channel = new VhostUserChannel(fd);
            _epoll.Add(fd, Interop.EPOLLIN, EventTokens.FrontEnd);
            VsockDeviceLog.FrontEndConnected(_logger);
        }
    }

    private VsockDeviceExit? ReadFrontEnd()
    {
        var channel = _channel;
        if (channel == null)
        {
            return null;
        }

        while (true)
        {
            var status = channel.TryRead(out var header, out var payload, _messageFds);
            switch (status)
            {
                case ChannelStatus.WouldBlock:
                    return null;
                case ChannelStatus.Closed:
                    VsockDeviceLog.FrontEndDisconnected(_logger);
                    return new VsockDeviceExit(VsockDeviceExitReason.FrontEndDisconnected, null);
                case ChannelStatus.ProtocolError:
                    VsockDeviceLog.ProtocolError(_logger, channel.Problem ?? "bad message");
                    return new VsockDeviceExit(VsockDeviceExitReason.Failed, $"vhost-user protocol error: {channel.Problem}");
            }

            bool replied = _backend.Handle(channel, header, payload, _messageFds);
            SyncRings();
            if (!replied)
            {
                VsockDeviceLog.FrontEndDisconnected(_logger);
                return new VsockDeviceExit(VsockDeviceExitReason.FrontEndDisconnected, "reply could not be sent");
            }
        }
    }

    /// <summary>Brings the muxer and the epoll set in line with the backend after a request.</summary>
    private void SyncRings()
    {
        foreach (var old in _backend.RetiredKicks)
        {
            _epoll.Remove(old);
            old.Dispose();
        }

        _backend.RetiredKicks.Clear();
        for (int i = 0; i < _registeredKicks.Length; i++)
        {
            var kick = _backend.Queues[i].Kick;
            if (!ReferenceEquals(kick, _registeredKicks[i]))
            {
                if (kick != null)
                {
                    _epoll.Add(kick, Interop.EPOLLIN, EventTokens.Kick | (uint)i);
                }

                _registeredKicks[i] = kick;
            }
        }

        if (_backend.ResetRequested)
        {
            _backend.ResetRequested = false;
            _muxer.ResetAll();
        }

        _muxer.Memory = _backend.Memory;
        _muxer.Rx = _backend.Queues[0];
        _muxer.Tx = _backend.Queues[1];
    }

    private void CloseSession()
    {
        _muxer.Memory = null;
        _muxer.Rx = null;
        _muxer.Tx = null;
        _muxer.ResetAll();
        foreach (var kick in _registeredKicks)
        {
            if (kick is { IsClosed: false })
            {
                _epoll.Remove(kick);
            }
        }

        _backend.Dispose();
        _channel?.Dispose();
        _channel = null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Dispose();
        _epoll.Dispose();
    }
}
