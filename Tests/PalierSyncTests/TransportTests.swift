import NIOCore
import NIOEmbedded
import NIOPosix
import PalierCore
import PalierCrypto
import PalierSync
import PalierTestSupport
import Testing

/// Collects what a pipeline passes up.
final class Collected: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SyncInbound
    var events: [SyncInbound] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { events.append(unwrapInboundIn(data)) }
}

struct TransportTests {
    static func pipeline(initiator: Bool, key: SigningKey, network: NetworkKey) throws -> (EmbeddedChannel, Collected) {
        let collected = Collected()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(SyncFrameDecoder()),
            MessageToByteHandler(SyncFrameEncoder()),
            NoiseSessionHandler(initiator: initiator, signingKey: key, networkKey: network),
            collected,
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, collected)
    }

    /// Moves bytes between the two channels until neither has anything to send.
    static func pump(_ a: EmbeddedChannel, _ b: EmbeddedChannel) {
        var moved = true
        while moved {
            moved = false
            while let bytes = try? a.readOutbound(as: ByteBuffer.self) { _ = try? b.writeInbound(bytes); moved = true }
            while let bytes = try? b.readOutbound(as: ByteBuffer.self) { _ = try? a.writeInbound(bytes); moved = true }
        }
    }

    @Test("a 64 MiB length prefix closes the session before any allocation")
    func hugeLengthPrefix() throws {
        let (channel, collected) = try Self.pipeline(initiator: false, key: Fixtures.key(801), network: .generate())
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(64 << 20))
        #expect(throws: SyncTransportError.frameTooLarge(64 << 20)) { try channel.writeInbound(buffer) }
        #expect(collected.events.isEmpty)
    }

    @Test("a truncated frame delivers nothing")
    func truncatedFrame() throws {
        let (channel, collected) = try Self.pipeline(initiator: false, key: Fixtures.key(802), network: .generate())
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(100))
        buffer.writeBytes([UInt8](repeating: 7, count: 40))
        try channel.writeInbound(buffer)
        #expect(collected.events.isEmpty)
        #expect(channel.isActive)
    }

    @Test("both sides learn each other's building; a replayed transport frame closes the session")
    func handshakeAndReplay() throws {
        let network = NetworkKey.generate()
        let alice = Fixtures.key(803), bob = Fixtures.key(804)
        let (a, fromA) = try Self.pipeline(initiator: true, key: alice, network: network)
        let (b, fromB) = try Self.pipeline(initiator: false, key: bob, network: network)
        Self.pump(a, b)
        guard case .established(let bKnowsA, _) = fromB.events.first, case .established(let aKnowsB, _) = fromA.events.first else {
            Issue.record("no session: \(fromA.events) \(fromB.events)")
            return
        }
        #expect(bKnowsA == alice.publicKey && aKnowsB == bob.publicKey)

        try a.writeOutbound(SyncMessage.ping(1).encoded())
        let frame = try #require(try a.readOutbound(as: ByteBuffer.self))
        try b.writeInbound(frame)
        #expect(fromB.events.count == 2)
        _ = try? b.writeInbound(frame)  // the same bytes again
        #expect(fromB.events.count == 2)
        #expect(!b.isActive)
    }

    @Test("without the network key the handshake fails and no identity is revealed")
    func wrongKey() throws {
        let (a, fromA) = try Self.pipeline(initiator: true, key: Fixtures.key(805), network: .generate())
        let (b, fromB) = try Self.pipeline(initiator: false, key: Fixtures.key(806), network: .generate())
        Self.pump(a, b)
        #expect(fromA.events.isEmpty && fromB.events.isEmpty)
        #expect(!b.isActive)
    }

    @Test("a peer that does not finish the handshake in time is disconnected")
    func handshakeTimeout() throws {
        let (channel, collected) = try Self.pipeline(initiator: false, key: Fixtures.key(807), network: .generate())
        (channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        (channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(collected.events.isEmpty)
    }
}
