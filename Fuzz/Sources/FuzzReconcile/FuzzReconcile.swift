import FuzzSupport
import PalierCore
import PalierCrypto

/// The reconciliation state machine answering a peer's message over a fixed set of 300 items
/// (timestamps clustered so that bounds need id prefixes): any message is answered or refused,
/// the answer is itself a message the machine accepts, and what it offers is held. (What it
/// asks for may include ids it holds when a peer lists ids outside their range: the machine
/// cannot tell, and the engine asks the store before it sends a `want`.)
let crypto = SodiumCrypto()
let items: [SyncItem] = (0..<300).map { n in
    SyncItem(timestamp: UInt64(n / 3) << 16, id: EnvelopeID(bytes: crypto.blake2b256([UInt8(n & 0xff), UInt8(n >> 8)]))!)
}
let set = SyncItemSet(items)
let ids = Set(items.map(\.id))
let machine = ReconciliationStateMachine(set: set, crypto: crypto)

@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let reply = try? machine.respond(to: bytes(data, size)) else { return 0 }
    invariant(reply.have.allSatisfy(ids.contains), "offered an id it does not hold")
    if let message = reply.message {
        invariant(message.count <= 65_535 - 17, "a reply of \(message.count) bytes does not fit a sync message")
        invariant((try? machine.respond(to: message)) != nil, "its own reply is refused")
    }
    return 0
}
