import PalierCore
import PalierCrypto
import PalierStore
@testable import PalierSync
import PalierTestSupport
import Testing

/// Sketch reconciliation between engines: the exchange, and a hostile peer's symbols.
@Suite struct SketchEngineTests {
    let author = Fixtures.key(3)
    let now = Fixtures.epoch + 3_600_000

    func posts(_ count: Int) -> [Envelope] {
        (0..<count).map { Fixtures.post(by: author, in: author.publicKey, at: Fixtures.epoch + UInt64($0) * 1000, counter: UInt16($0 % 3), title: "Annonce \($0)") }
    }

    func engine(_ key: UInt64, holding envelopes: [Envelope], sketch: Bool = true) throws -> SyncEngine {
        let store = try EnvelopeStore(path: nil, building: Fixtures.key(key).publicKey, validator: .sodium)
        _ = try store.ingest(envelopes.map(\.bytes), now: now)
        var configuration = SyncEngine.Configuration(name: "building \(key)")
        configuration.authorBurst = 1e9
        configuration.sketchReconciliation = sketch
        return try SyncEngine(store: store, crypto: SodiumCrypto(), configuration: configuration)
    }

    @Test("a node that lacks 7 of 400 items gets them in two round trips: the symbols, then the envelopes")
    func twoRoundTrips() throws {
        let all = posts(400)
        let lacking = try engine(10, holding: all.enumerated().filter { $0.offset % 57 != 3 }.map(\.element))
        let full = try engine(11, holding: all)
        var types: [SyncMessage.MessageType] = []
        let pair = EnginePair(initiator: lacking, responder: full)
        pair.trace = { _, message in types.append(message.type) }
        pair.run(now: now)
        #expect(try lacking.store.statistics().envelopes == 400)
        #expect(pair.roundTrips == 2)
        #expect(types.contains(.sketchRequest) && types.contains(.sketchSymbols) && !types.contains(.reconcile))
        #expect(lacking.statistics.sketchSymbolsDecoded > 0)
    }

    @Test("a peer without the feature, or either side with it turned off, reconciles by ranges")
    func rangesWithoutTheFeature() throws {
        let all = posts(300)
        for (a, b) in [(true, false), (false, true)] {
            let lacking = try engine(12, holding: Array(all.dropLast(5)), sketch: a)
            let full = try engine(13, holding: all, sketch: b)
            var types: [SyncMessage.MessageType] = []
            let pair = EnginePair(initiator: lacking, responder: full)
            pair.trace = { _, message in types.append(message.type) }
            pair.run(now: now)
            #expect(try lacking.store.statistics().envelopes == 300)
            #expect(!types.contains(.sketchRequest) && types.contains(.reconcile))
        }
    }

    /// The dialling side of a session with a peer that announced the feature, its first request sent.
    func requester(holding count: Int) throws -> (SyncEngine, [SyncOutput]) {
        let engine = try engine(20, holding: posts(count))
        _ = engine.sessionOpened(1, remote: Fixtures.key(21).publicKey, initiator: true, now: now)
        let out = engine.receive(SyncMessage.hello(.init(name: "peer")).encoded(), from: 1, now: now)
        return (engine, out)
    }

    static func closes(_ outputs: [SyncOutput], _ reason: SyncMessage.ByeReason) -> Bool {
        outputs.contains { if case .close(_, reason, _, true) = $0 { true } else { false } }
    }

    @Test("symbols never asked for, or out of order, close the session; the rest of an answer after decoding is ignored")
    func unaskedSymbols() throws {
        let (engine, first) = try requester(holding: 300)
        #expect(first.contains { if case .send(_, .sketchRequest(0, 32, 300)) = $0 { true } else { false } })
        // Out of order: the answer must start at 0.
        #expect(Self.closes(engine.receive(SyncMessage.sketchSymbols(start: 5, end: 6, symbols: [.empty]).encoded(), from: 1, now: now), .protocolViolation))

        let (done, _) = try requester(holding: 300)
        let own = SketchEncoder(posts(300).map { SketchItem($0.id, crypto: SodiumCrypto()) }, prefix: 40)
        // The peer holds the same set: symbol 0 decodes at once; the rest of its answer is ignored.
        let answer = done.receive(SyncMessage.sketchSymbols(start: 0, end: 32, symbols: Array(own.symbols[0..<20])).encoded(), from: 1, now: now)
        #expect(!answer.contains { if case .close = $0 { true } else { false } })
        #expect(done.receive(SyncMessage.sketchSymbols(start: 20, end: 32, symbols: Array(own.symbols[20..<32])).encoded(), from: 1, now: now).isEmpty)
        // Past what was asked: never asked for.
        #expect(Self.closes(done.receive(SyncMessage.sketchSymbols(start: 32, end: 33, symbols: [own.symbols[32]]).encoded(), from: 1, now: now), .protocolViolation))
    }

    @Test("an answer that no set gives closes the session and backs the peer off")
    func inconsistentAnswer() throws {
        let (engine, _) = try requester(holding: 300)
        var own = SketchEncoder(posts(300).map { SketchItem($0.id, crypto: SodiumCrypto()) }, prefix: 32)
        // Symbol 0 as for the same set, symbol 1 holding one more id: symbol 0 empty beside one that is not.
        var symbols = Array(own.symbols[0..<32])
        let stranger = SketchItem(Fixtures.post(by: author, in: author.publicKey, title: "ailleurs").id, crypto: SodiumCrypto())
        symbols[1].apply(stranger, words: CodedSymbol.words(stranger.id), direction: 1)
        own.extend(to: 32)
        #expect(Self.closes(engine.receive(SyncMessage.sketchSymbols(start: 0, end: 32, symbols: symbols).encoded(), from: 1, now: now), .protocolViolation))
    }

    @Test("garbage that never decodes costs at most the symbol budget, then the round goes on by ranges")
    func garbageFallsBackToRanges() throws {
        let (engine, _) = try requester(holding: 300)
        var random = SeededRandom(seed: 3)
        var start = 0, requested = 32, rounds = 0, fellBack = false
        while !fellBack && rounds < 20 {
            rounds += 1
            let symbols = (start..<requested).map { _ in
                CodedSymbol(sum: SIMD4(random.next(), random.next(), random.next(), random.next()), checksum: random.next(), count: Int64(bitPattern: random.next()))
            }
            var out: [SyncOutput] = []
            for chunk in stride(from: 0, to: symbols.count, by: SyncProtocol.maximumSymbolsPerMessage) {
                let part = Array(symbols[chunk..<min(chunk + SyncProtocol.maximumSymbolsPerMessage, symbols.count)])
                out += engine.receive(SyncMessage.sketchSymbols(start: UInt64(start + chunk), end: UInt64(requested), symbols: part).encoded(), from: 1, now: now)
            }
            #expect(!out.contains { if case .close = $0 { true } else { false } })
            if out.contains(where: { if case .send(_, .reconcile) = $0 { true } else { false } }) {
                fellBack = true
            } else if case .send(_, .sketchRequest(let from, let count, _))? = out.first {
                start = Int(from)
                requested = Int(from + count)
            }
        }
        #expect(fellBack, "still asking for symbols after \(rounds) requests")
        // 4 × 300 + 4096 symbols at most, asked for in doublings from 32.
        #expect(start <= 4 * 300 + 4096)
    }
}

extension SketchEngineTests {
    @Test("a request's set size at 0, 1, 2^64 − 2, 2^64 − 1 gets an answer capped at 2^18 symbols, from any start")
    func extremeRequests() throws {
        let responder = try engine(30, holding: posts(300))
        _ = responder.sessionOpened(1, remote: Fixtures.key(31).publicKey, initiator: false, now: now)
        _ = responder.receive(SyncMessage.hello(.init(name: "peer")).encoded(), from: 1, now: now)
        for size in extremes(UInt64.self) {
            let out = responder.receive(SyncMessage.sketchRequest(start: 0, count: 1, setSize: size).encoded(), from: 1, now: now)
            let ends = out.compactMap { if case .send(_, .sketchSymbols(_, let end, _)) = $0 { end } else { nil } }
            #expect(!ends.isEmpty && ends.allSatisfy { $0 <= 1 << 18 }, "set size \(size)")
        }
        for start in [UInt64(1 << 18), .max - 1, .max] {
            #expect(Self.closes(responder.receive(SyncMessage.sketchRequest(start: start, count: .max, setSize: 0).encoded(), from: 1, now: now), .protocolViolation))
        }
    }
}

extension SketchEngineTests {
    @Test("the first answer's size: ⌈1.5 d⌉ + 3⌈√d⌉ + 16, d taken at most 2^18")
    func firstAnswerSize() {
        #expect(SyncEngine.firstAnswer(sizeDifference: 0) == 16)
        #expect(SyncEngine.firstAnswer(sizeDifference: 1) == 21)
        #expect(SyncEngine.firstAnswer(sizeDifference: 100) == 196)
        #expect(SyncEngine.firstAnswer(sizeDifference: 10_000) == 15_316)
        #expect(SyncEngine.firstAnswer(sizeDifference: .max) == SyncEngine.firstAnswer(sizeDifference: 1 << 18))
    }
}

extension SketchEngineTests {
    @Test("a peer whose symbol budget runs out (it holds few items, the asker many) ends the round by ranges")
    func peerBudgetFallsBackToRanges() throws {
        let all = posts(4000)
        let many = try engine(40, holding: all)
        let few = try engine(41, holding: Array(all.prefix(10)))
        var types: [SyncMessage.MessageType] = []
        let pair = EnginePair(initiator: many, responder: few)
        pair.trace = { _, message in types.append(message.type) }
        pair.run(now: now)
        #expect(types.contains(.sketchRequest) && types.contains(.reconcile))
        #expect(try few.store.statistics().envelopes == (try many.store.statistics().envelopes))
    }
}

extension SketchEngineTests {
    @Test("a node with many items answers one with few within the asker's budget: no blame, the round ends by ranges and both converge (found by palier-bench scale)")
    func answerWithinTheAskersBudget() throws {
        let all = posts(4_000)
        let few = try engine(42, holding: Array(all.prefix(300)))
        let many = try engine(43, holding: all)
        var types: [SyncMessage.MessageType] = []
        var closes: [SyncMessage.ByeReason] = []
        var symbolsEnd: UInt64 = 0
        var wanted = 0, sent = 0
        let pair = EnginePair(initiator: few, responder: many)
        pair.trace = { _, message in
            types.append(message.type)
            if case .sketchSymbols(_, let end, _) = message { symbolsEnd = max(symbolsEnd, end) }
            if case .want(let ids) = message { wanted += ids.count }
            if case .envelopes(let list) = message { sent += list.count }
        }
        pair.onClose = { _, reason, _, _ in closes.append(reason) }
        pair.run(now: now)
        #expect(closes.isEmpty, "nobody is blamed: \(closes)")
        #expect(symbolsEnd <= UInt64(4 * 300 + 4096), "the answer ends at \(symbolsEnd)")
        #expect(types.contains(.sketchRequest))
        let held = try few.store.statistics().envelopes
        #expect(held == (try many.store.statistics().envelopes), "\(held) held after \(types.count) messages, wanted \(wanted), sent \(sent)")
        #expect(held == 4_000)
    }

    @Test("an answer that passes the asker's budget anyway (an older peer) sends it on by ranges, without blame")
    func answerPastTheBudget() throws {
        let (engine, _) = try requester(holding: 300)
        let symbols = [CodedSymbol](repeating: CodedSymbol(), count: 10)
        let out = engine.receive(SyncMessage.sketchSymbols(start: 0, end: 100_000, symbols: symbols).encoded(), from: 1, now: now)
        #expect(!out.contains { if case .close = $0 { true } else { false } })
        #expect(out.contains { if case .send(_, .reconcile) = $0 { true } else { false } })
        // The rest of that answer is let through unread.
        let rest = engine.receive(SyncMessage.sketchSymbols(start: 10, end: 100_000, symbols: symbols).encoded(), from: 1, now: now)
        #expect(rest.isEmpty)
    }
}

extension SketchEngineTests {
    @Test("a node that lacks thousands asks for them at the pace its own message limit allows: the peer is never cut off, and everything arrives")
    func wantsArePaced() throws {
        for sketch in [true, false] {
            let all = posts(3_000)
            func limited(_ key: UInt64, _ envelopes: [Envelope]) throws -> SyncEngine {
                let engine = try engine(key, holding: envelopes, sketch: sketch)
                engine.configuration.peerMessageBurst = 60
                engine.configuration.peerMessagesPerSecond = 40
                return engine
            }
            let lacking = try limited(44, Array(all.prefix(300)))
            let full = try limited(45, all)
            var closes: [String] = []
            let pair = EnginePair(initiator: lacking, responder: full)
            var seen: [String: Int] = [:]
            pair.trace = { direction, message in if closes.isEmpty { seen["\(direction) \(message.type)", default: 0] += 1 } }
            pair.onClose = { side, reason, text, _ in closes.append("\(side) \(reason) \(text) after \(seen)") }
            var now = self.now
            pair.run(now: now)
            for _ in 0..<60 where try lacking.store.statistics().envelopes < 3_000 {
                now += 500
                pair.tick(now: now)
            }
            #expect(closes.isEmpty, "\(closes)")
            #expect(try lacking.store.statistics().envelopes == 3_000, "sketch \(sketch)")
        }
    }
}
