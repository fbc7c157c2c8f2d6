import PalierCore
import PalierSync

/// Two engines joined by a perfect link, run in lock step: in each round the initiator's
/// messages are delivered and answered, then the answers are delivered. Counts wire bytes
/// (each message plus its 4-byte frame length and 16-byte Noise tag) and round trips.
public final class EnginePair {
    public let initiator: SyncEngine
    public let responder: SyncEngine
    public private(set) var bytesFromInitiator = 0
    public private(set) var bytesFromResponder = 0
    /// Wire bytes by message type, both ways.
    public private(set) var bytesByType: [SyncMessage.MessageType: Int] = [:]
    /// Rounds in which the initiator asked something (reconcile, sketch request or want) and waited for the answer.
    public private(set) var roundTrips = 0
    public static let frameOverhead = 4 + 16
    /// Called for every message delivered: "B→A" or "A→B" (initiator is B), and the message.
    public var trace: (String, SyncMessage) -> Void = { _, _ in }

    public init(initiator: SyncEngine, responder: SyncEngine) {
        self.initiator = initiator
        self.responder = responder
    }

    private var now: UInt64 = 0

    /// Called for every `close` either engine asks for: the side ("A" responder, "B" initiator),
    /// the reason, the text and whether the peer is blamed.
    public var onClose: (String, SyncMessage.ByeReason, String, Bool) -> Void = { _, _, _, _ in }

    /// Opens the session and runs until neither side has anything to send.
    public func run(now: UInt64) {
        self.now = now
        exchange(toResponder: messages(initiator.sessionOpened(1, remote: responder.building, initiator: true, now: now), side: "B"),
                 toInitiator: messages(responder.sessionOpened(2, remote: initiator.building, initiator: false, now: now), side: "A"))
    }

    /// Both engines' periodic work at `now`, then the exchange it starts, until quiet.
    public func tick(now: UInt64) {
        self.now = now
        exchange(toResponder: messages(initiator.tick(now: now), side: "B"), toInitiator: messages(responder.tick(now: now), side: "A"))
    }

    private func exchange(toResponder: [SyncMessage], toInitiator: [SyncMessage]) {
        var toResponder = toResponder
        var toInitiator = toInitiator
        while !toResponder.isEmpty || !toInitiator.isEmpty {
            if toResponder.contains(where: { $0.type == .reconcile || $0.type == .want || $0.type == .sketchRequest }) { roundTrips += 1 }
            toInitiator += deliver(toResponder, to: responder, as: 2, counting: &bytesFromInitiator, trace: "B→A")
            toResponder = deliver(toInitiator, to: initiator, as: 1, counting: &bytesFromResponder, trace: "A→B")
            toInitiator = []
        }
    }

    /// Delivers `messages` to `engine` (where the session is peer `peer`); returns its answers.
    private func deliver(_ messages: [SyncMessage], to engine: SyncEngine, as peer: PeerID, counting bytes: inout Int, trace direction: String) -> [SyncMessage] {
        var answers: [SyncMessage] = []
        for message in messages {
            let encoded = message.encoded()
            bytes += encoded.count + Self.frameOverhead
            bytesByType[message.type, default: 0] += encoded.count + Self.frameOverhead
            trace(direction, message)
            answers += self.messages(engine.receive(encoded, from: peer, now: now), side: engine === initiator ? "B" : "A")
        }
        return answers
    }

    private func messages(_ outputs: [SyncOutput], side: String) -> [SyncMessage] {
        outputs.compactMap { output in
            switch output {
            case .send(_, let message): return message
            case .close(_, let reason, let text, let backOff):
                onClose(side, reason, text, backOff)
                return nil
            case .learnedOnion:
                return nil
            }
        }
    }
}
