import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// Runs the reconciliation between two item sets to the end, as two peers would.
struct ReconciliationRun {
    var rounds = 0
    var bytesFromInitiator = 0
    var bytesFromResponder = 0
    var need = Set<EnvelopeID>()   // ids the initiator lacks
    var have = Set<EnvelopeID>()   // ids the responder lacks

    init(initiator: SyncItemSet, responder: SyncItemSet) throws {
        let crypto = SodiumCrypto()
        let a = ReconciliationStateMachine(set: initiator, crypto: crypto)
        let b = ReconciliationStateMachine(set: responder, crypto: crypto)
        var message = a.initiate()
        var fromInitiator = true
        while true {
            if fromInitiator { bytesFromInitiator += message.count; rounds += 1 } else { bytesFromResponder += message.count }
            let reply = try (fromInitiator ? b : a).respond(to: message)
            if fromInitiator {
                have.formUnion(reply.need)   // the responder needs what the initiator has
                need.formUnion(reply.have)
            } else {
                need.formUnion(reply.need)
                have.formUnion(reply.have)
            }
            guard let next = reply.message else { break }
            message = next
            fromInitiator.toggle()
        }
    }
}

struct ReconciliationTests {
    static func randomItems(_ count: Int, _ random: inout SeededRandom, clustered: Bool = false) -> [SyncItem] {
        (0..<count).map { i in
            let timestamp = clustered ? UInt64(1_000 + i / 3) : UInt64.random(in: 1...1_000_000, using: &random)
            return SyncItem(timestamp: timestamp, id: EnvelopeID(bytes: random.bytes(32))!)
        }
    }

    @Test("reconciliation finds exactly the symmetric difference", arguments: [
        (0, 0, 0), (5, 0, 0), (0, 0, 7), (1_000, 1, 0), (1_000, 0, 1), (3_000, 40, 60), (20_000, 100, 100), (500, 500, 500), (2_000, 1_500, 10),
    ])
    func symmetricDifference(shared: Int, onlyInitiator: Int, onlyResponder: Int) throws {
        for clustered in [false, true] {
            var random = SeededRandom(seed: UInt64(shared * 31 + onlyInitiator * 7 + onlyResponder))
            let common = Self.randomItems(shared, &random, clustered: clustered)
            let mine = Self.randomItems(onlyInitiator, &random, clustered: clustered)
            let theirs = Self.randomItems(onlyResponder, &random, clustered: clustered)
            let run = try ReconciliationRun(initiator: SyncItemSet(common + mine), responder: SyncItemSet(common + theirs))
            #expect(run.have == Set(mine.map(\.id)))
            #expect(run.need == Set(theirs.map(\.id)))
        }
    }

    @Test("equal sets agree in one round trip with a few hundred bytes")
    func equalSets() throws {
        var random = SeededRandom(seed: 9)
        let items = Self.randomItems(10_000, &random)
        let run = try ReconciliationRun(initiator: SyncItemSet(items), responder: SyncItemSet(items))
        #expect(run.rounds == 1)
        #expect(run.bytesFromInitiator < 500)
        #expect(run.need.isEmpty && run.have.isEmpty)
    }

    @Test("malformed reconciliation messages are refused with an error, never a crash")
    func malformed() throws {
        let machine = ReconciliationStateMachine(set: SyncItemSet([]), crypto: SodiumCrypto())
        #expect(throws: SyncMessageError.self) { _ = try machine.respond(to: []) }
        #expect(throws: SyncMessageError.self) { _ = try machine.respond(to: [2]) }
        #expect(throws: SyncMessageError.self) { _ = try machine.respond(to: [1, 5, 0, 9]) }            // unknown mode
        #expect(throws: SyncMessageError.self) { _ = try machine.respond(to: [1, 5, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]) } // huge count
        #expect(throws: SyncMessageError.self) { _ = try machine.respond(to: [1, 5, 40]) }            // prefix over 32 bytes
        #expect(throws: SyncMessageError.self) { _ = try machine.respond(to: [1, 5, 0, 0, 1, 0, 0]) } // bounds not ascending
        var random = SeededRandom(seed: 3)
        for _ in 0..<2_000 {
            let junk = [1] + random.bytes(Int.random(in: 0...60, using: &random))
            _ = try? machine.respond(to: junk)
        }
    }
}
