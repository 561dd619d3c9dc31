using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Noise;

/// <summary>A duplex byte stream encrypted with the transport keys of a completed Noise handshake.</summary>
/// <remarks>
/// Each write becomes one or more Noise messages of at most <see cref="MaxPlaintextPerMessage"/> plaintext bytes;
/// reads return decrypted bytes regardless of message boundaries. One reader and one writer may run concurrently;
/// two concurrent reads (or writes) throw <see cref="InvalidOperationException"/>. Disposing closes the transport.
/// </remarks>
public sealed class SecureChannel : Stream
{
    /// <summary>65535 minus the 16-byte tag, the chunk size js-libp2p uses as well.</summary>
    public const int MaxPlaintextPerMessage = NoiseHandshake.MaxMessageLength - CipherState.TagLength;

    private const int LengthPrefix = 2;
    private const int FrameCapacity = LengthPrefix + NoiseHandshake.MaxMessageLength;

    private const int Idle = 0, Busy = 1, Released = -1;

    private readonly Stream _transport;
    private readonly CipherState _send;
    private readonly CipherState _receive;

    // Inbound ciphertext, read from the transport in as large pieces as it offers (several frames per read).
    private readonly byte[] _inbound = ArrayPool<byte>.Shared.Rent(2 * FrameCapacity);
    private int _inStart, _inEnd;

    // Decrypted bytes of a message the caller's buffer was too small for.
    private readonly byte[] _plain = ArrayPool<byte>.Shared.Rent(MaxPlaintextPerMessage);
    private int _plainStart, _plainEnd;

    private readonly byte[] _outbound = ArrayPool<byte>.Shared.Rent(FrameCapacity);

    private int _readState, _writeState;
    private volatile bool _disposed;

    internal SecureChannel(Stream transport, CipherState send, CipherState receive, PeerId remotePeer, PublicKey remotePublicKey, byte[] handshakeHash)
    {
        _transport = transport;
        _send = send;
        _receive = receive;
        RemotePeer = remotePeer;
        RemotePublicKey = remotePublicKey;
        HandshakeHash = handshakeHash;
    }

    /// <summary>The peer proved by the handshake (derived from the identity key that signed its Noise static key).</summary>
    public PeerId RemotePeer { get; }

    public PublicKey RemotePublicKey { get; }

    /// <summary>The final Noise handshake hash h, unique to this session.</summary>
    internal byte[] HandshakeHash { get; }

    internal CipherState SendCipher => _send;
    internal CipherState ReceiveCipher => _receive;

    public override bool CanRead => !_disposed;
    public override bool CanWrite => !_disposed;
    public override bool CanSeek => false;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Enter(ref _readState);
        try
        {
            if (buffer.IsEmpty) return 0;
            // Each pass either returns or reads more bytes from the transport, so it ends with the transport.
            while (true)
            {
                int n = TakeDecrypted(buffer.Span);
                if (n >= 0) return n;
                PrepareInbound();
                int read = await _transport.ReadAsync(_inbound.AsMemory(_inEnd), cancellationToken).ConfigureAwait(false);
                if (read == 0) return EndOfTransport();
                _inEnd += read;
            }
        }
        finally
        {
            Exit(ref _readState);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        Enter(ref _readState);
        try
        {
            if (buffer.IsEmpty) return 0;
            while (true)
            {
                int n = TakeDecrypted(buffer);
                if (n >= 0) return n;
                PrepareInbound();
                int read = _transport.Read(_inbound.AsSpan(_inEnd));
                if (read == 0) return EndOfTransport();
                _inEnd += read;
            }
        }
        finally
        {
            Exit(ref _readState);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Enter(ref _writeState);
        try
        {
            while (!buffer.IsEmpty)
            {
                int chunk = Math.Min(buffer.Length, MaxPlaintextPerMessage);
                int frame = EncryptFrame(buffer.Span[..chunk]);
                await _transport.WriteAsync(_outbound.AsMemory(0, frame), cancellationToken).ConfigureAwait(false);
                buffer = buffer[chunk..];
            }
        }
        finally
        {
            Exit(ref _writeState);
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Enter(ref _writeState);
        try
        {
            while (!buffer.IsEmpty)
            {
                int chunk = Math.Min(buffer.Length, MaxPlaintextPerMessage);
                _transport.Write(_outbound, 0, EncryptFrame(buffer[..chunk]));
                buffer = buffer[chunk..];
            }
        }
        finally
        {
            Exit(ref _writeState);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task FlushAsync(CancellationToken cancellationToken) => _transport.FlushAsync(cancellationToken);

    public override void Flush() => _transport.Flush();

    /// <summary>Copies out buffered plaintext, or decrypts one complete buffered message.</summary>
    /// <returns>Bytes written to <paramref name="destination"/>, or -1 when more ciphertext must be read first.</returns>
    private int TakeDecrypted(Span<byte> destination)
    {
        while (true)
        {
            if (_plainStart < _plainEnd)
            {
                int n = Math.Min(destination.Length, _plainEnd - _plainStart);
                _plain.AsSpan(_plainStart, n).CopyTo(destination);
                _plainStart += n;
                return n;
            }
            int available = _inEnd - _inStart;
            if (available < LengthPrefix) return -1;
            int length = BinaryPrimitives.ReadUInt16BigEndian(_inbound.AsSpan(_inStart));
            if (length < CipherState.TagLength) throw new IOException($"noise: transport message of {length} bytes is shorter than its tag");
            if (available < LengthPrefix + length) return -1;
            var ciphertext = _inbound.AsSpan(_inStart + LengthPrefix, length);
            int plaintextLength = length - CipherState.TagLength;
            // Decrypt straight into the caller's buffer when it is large enough; the common case copies nothing.
            bool direct = destination.Length >= plaintextLength;
            if (!_receive.TryDecrypt([], ciphertext, direct ? destination : _plain))
                throw new IOException("noise: transport message failed authentication (corrupted or forged)");
            _inStart += LengthPrefix + length;
            if (direct)
            {
                // An empty message carries nothing; returning 0 would read as end of stream, so keep going.
                if (plaintextLength > 0) return plaintextLength;
                continue;
            }
            _plainStart = 0;
            _plainEnd = plaintextLength;
        }
    }

    /// <summary>Makes room at the end of the inbound buffer for at least one more complete frame.</summary>
    private void PrepareInbound()
    {
        if (_inStart == _inEnd) _inStart = _inEnd = 0;
        else if (_inbound.Length - _inStart < FrameCapacity)
        {
            Buffer.BlockCopy(_inbound, _inStart, _inbound, 0, _inEnd - _inStart);
            _inEnd -= _inStart;
            _inStart = 0;
        }
    }

    private int EndOfTransport()
    {
        if (_inStart != _inEnd) throw new IOException($"noise: connection closed inside a transport message ({_inEnd - _inStart} bytes pending)");
        return 0;
    }

    private int EncryptFrame(ReadOnlySpan<byte> plaintext)
    {
        int length = plaintext.Length + CipherState.TagLength;
        BinaryPrimitives.WriteUInt16BigEndian(_outbound, (ushort)length);
        _send.Encrypt([], plaintext, _outbound.AsSpan(LengthPrefix, length));
        return LengthPrefix + length;
    }

    private void Enter(ref int state)
    {
        int previous = Interlocked.CompareExchange(ref state, Busy, Idle);
        if (previous == Released) throw new ObjectDisposedException(nameof(SecureChannel));
        if (previous == Busy) throw new InvalidOperationException("SecureChannel allows one reader and one writer at a time");
        if (_disposed)
        {
            Exit(ref state);
            throw new ObjectDisposedException(nameof(SecureChannel));
        }
    }

    private void Exit(ref int state)
    {
        // Full fence: pairs with Dispose so exactly one of them returns the buffers of this direction.
        Interlocked.Exchange(ref state, Idle);
        if (_disposed) Release(ref state);
    }

    private void Release(ref int state)
    {
        if (Interlocked.CompareExchange(ref state, Released, Idle) != Idle) return;
        if (Unsafe.AreSame(ref state, ref _readState))
        {
            _receive.Dispose();
            ArrayPool<byte>.Shared.Return(_inbound);
            ArrayPool<byte>.Shared.Return(_plain, clearArray: true);
        }
        else
        {
            _send.Dispose();
            ArrayPool<byte>.Shared.Return(_outbound, clearArray: true);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _transport.Dispose();
            Release(ref _readState);
            Release(ref _writeState);
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await _transport.DisposeAsync().ConfigureAwait(false);
            Release(ref _readState);
            Release(ref _writeState);
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
