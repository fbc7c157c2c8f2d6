import NIOCore
import PalierCore
import PalierCrypto

/// Why a sync connection was closed by the transport layer.
public struct SyncTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case frameTooLarge(UInt32)
        case handshakeTimeout
        case badIdentity(String)
        case noise(String)
    }
    private let code: Code

    /// A length prefix over 65535: refused before any allocation.
    public static func frameTooLarge(_ length: UInt32) -> Self { Self(code: .frameTooLarge(length)) }
    public static let handshakeTimeout = Self(code: .handshakeTimeout)
    public static func badIdentity(_ why: String) -> Self { Self(code: .badIdentity(why)) }
    public static func noise(_ error: NoiseError) -> Self { Self(code: .noise(error.description)) }

    public var description: String {
        switch code {
        case .frameTooLarge(let n): "a frame of \(n) bytes announced (the limit is 65535)"
        case .handshakeTimeout: "the handshake did not finish in time"
        case .badIdentity(let why): "the peer's identity proof was refused: \(why)"
        case .noise(let text): text
        }
    }
}

/// Frames on the wire: a 4-byte big-endian length, then that many bytes (one Noise message).
public enum SyncFrame {
    /// Noise's limit on a message.
    public static let maximumLength = 65535
}

/// Cuts the byte stream into frames. A length over 65535 fails the channel before any buffer
/// of that size exists.
public struct SyncFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length <= SyncFrame.maximumLength else { throw SyncTransportError.frameTooLarge(length) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Writes the length prefix in front of each outgoing frame.
public struct SyncFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
