import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import PalierCore
import PalierCrypto
import PalierDiscovery
@testable import PalierNode
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// A running node (built as `palier run` builds it) with its residents' channel on a loopback
/// port, and a resident's client on the same machine with a key of its own.
final class ResidentsLab: Sendable {
    let node: BuildingNode
    let runtime: NodeRuntime
    let task: Task<Void, any Error>
    let address: String

    init(moderation: ResidentsConfiguration.Moderation = .none) async throws {
        var configuration = NodeConfiguration(buildingName: "Résidence des Lilas")
        configuration.residents.moderation = moderation
        configuration.sync.port = 0
        configuration.sync.discovery = false
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        node = try BuildingNode.initialise(directory, configuration: configuration)
        var logger = Logger(label: "test-residents")
        logger.logLevel = .critical
        var options = NodeRuntime.Options()
        options.kiosk = false
        options.residentsTransport = TCPTransport(host: "127.0.0.1", port: 0)
        runtime = try NodeRuntime(node: node, logger: logger, options: options)
        task = Task { [runtime] in try await runtime.run(signals: false) }
        let service = try #require(runtime.residents)
        _ = try await eventually(within: .seconds(10)) { service.boundPort != nil }
        let port = try #require(service.boundPort)
        address = "127.0.0.1:\(port)"
    }

    func code(_ role: Role = .resident, name: String = "Camille, 3e étage", validFor: UInt64 = BuildingNode.defaultEnrolmentValidity) throws -> EnrolmentCode {
        try node.enrol(role, displayName: name, validFor: validFor, addresses: [address]).code
    }

    /// A code's short form, to type.
    func shortCode(validFor: UInt64 = BuildingNode.defaultEnrolmentValidity) throws -> ShortEnrolmentCode {
        try node.enrol(.resident, displayName: "Camille, 3e étage", validFor: validFor, addresses: [address]).enrolment.shortCode
    }

    /// A connection that accepts whichever building answers (a short code names none).
    func connectAnywhere(_ key: SigningKey) async throws -> ResidentConnection {
        try await ResidentConnection.open(addresses: [address], building: nil, key: key)
    }

    func connect(_ key: SigningKey) async throws -> ResidentConnection {
        try await ResidentConnection.open(addresses: [address], building: node.building, key: key)
    }

    func post(_ title: String, by key: SigningKey, kind: Kind = .tip, building: PublicKey? = nil) -> Envelope {
        Fixtures.post(kind, by: key, in: building ?? node.building, at: node.now(), lifetime: Fixtures.day, title: title)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

@Suite(.serialized)
struct ResidentChannelTests {
    @Test("a resident joins with a code and their own key, posts from their machine, and the post shows; no private key reaches the node")
    func joinAndPost() async throws {
        let lab = try await ResidentsLab()
        let camille = SigningKey.generate()
        let code = try EnrolmentCode(text: try lab.code().text)
        let connection = try await lab.connect(camille)
        let joined = try await connection.join(code, key: camille.publicKey)
        #expect(joined.role == .resident && joined.displayName == "Camille, 3e étage")
        #expect(try lab.node.store.membership(of: camille.publicKey, in: lab.node.building, now: lab.node.now())?.role == .resident)

        let post = lab.post("Vide-grenier dans la cour", by: camille)
        let answer = try await connection.submit(post.bytes)
        #expect(answer == ResidentMessage.Answer(id: post.id, outcome: .accepted))
        #expect(try lab.node.view().items.map(\.id).contains(post.id))
        // Sent again (from the outbox after a lost answer): stored once.
        #expect(try await connection.submit(post.bytes).outcome == .alreadyStored)
        connection.close()

        // The resident's secret key is nowhere in the node's data directory.
        let secret = Data(camille.seed)
        let files = FileManager.default.enumerator(atPath: lab.node.directory.root.path)!.compactMap { $0 as? String }
        for file in files {
            let data = (try? Data(contentsOf: lab.node.directory.root.appendingPathComponent(file))) ?? Data()
            #expect(data.range(of: secret) == nil, "\(file) holds the resident's key")
        }
        await lab.stop()
    }

    @Test("a code works once; an expired code, a wrong secret (five tries, then burnt) and a code of another building are refused")
    func badCodes() async throws {
        let lab = try await ResidentsLab()
        let code = try lab.code()
        let first = SigningKey.generate()
        #expect(try await lab.connect(first).join(code, key: first.publicKey).role == .resident)
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            let key = SigningKey.generate()
            _ = try await lab.connect(key).join(code, key: key.publicKey)
        }

        var wrong = try lab.code()
        wrong.secret = [UInt8](repeating: 7, count: EnrolmentCode.secretLength)
        for left in (0..<ResidentProtocol.maximumJoinTries).reversed() {
            let key = SigningKey.generate()
            await #expect(throws: ResidentClientError.refused(.wrongSecret, "\(left)")) { _ = try await lab.connect(key).join(wrong, key: key.publicKey) }
        }
        var right = wrong
        right.secret = try #require(try lab.node.store.enrolment(id: wrong.id)).secret
        let key = SigningKey.generate()
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connect(key).join(right, key: key.publicKey)
        }
        #expect(try lab.node.store.membership(of: key.publicKey, in: lab.node.building, now: lab.node.now()) == nil)

        let brief = try lab.code(validFor: 1)
        try await Task.sleep(for: .milliseconds(5))
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connect(key).join(brief, key: key.publicKey)
        }

        // Another building's code: its key is not the one this node proves.
        var elsewhere = try lab.code()
        elsewhere.building = SigningKey.generate().publicKey
        await #expect(throws: ResidentClientError.wrongBuilding(lab.node.building)) {
            _ = try await ResidentConnection.open(addresses: elsewhere.addresses, building: elsewhere.building, key: key)
        }
        await lab.stop()
    }

    @Test("an unknown key may only join; a post signed by another key, for another building or of a kind the role may not post is refused; nothing is stored")
    func refusedSubmissions() async throws {
        let lab = try await ResidentsLab()
        let stranger = SigningKey.generate()
        await #expect(throws: ResidentClientError.refused(.notAMember, "this key holds no role in this building")) {
            _ = try await lab.connect(stranger).submit(lab.post("Intrus", by: stranger).bytes)
        }
        let camille = SigningKey.generate()
        let connection = try await lab.connect(camille)
        _ = try await connection.join(try lab.code(), key: camille.publicKey)
        let before = try lab.node.store.statistics().envelopes
        #expect(try await connection.submit(lab.post("Pas à moi", by: stranger).bytes).reason == .notYourKey)
        #expect(try await connection.submit(lab.post("Ailleurs", by: camille, building: stranger.publicKey).bytes).reason == .otherBuilding)
        #expect(try await connection.submit(lab.post("Coupure d'eau", by: camille, kind: .alert).bytes).reason == .notAllowed)
        #expect(try await connection.submit([0x01, 0x02, 0x03]).reason == .invalidEnvelope)
        #expect(try lab.node.store.statistics().envelopes == before)
        connection.close()
        await lab.stop()
    }

    @Test("a resident revoked during a session is refused at their next post")
    func revokedDuringSession() async throws {
        let lab = try await ResidentsLab()
        let camille = SigningKey.generate()
        let connection = try await lab.connect(camille)
        _ = try await connection.join(try lab.code(), key: camille.publicKey)
        #expect(try await connection.submit(lab.post("Avant", by: camille).bytes).outcome == .accepted)
        try lab.node.revoke(camille.publicKey)
        await #expect(throws: ResidentClientError.refused(.notAMember, "this key holds no role in this building")) {
            _ = try await connection.submit(lab.post("Après", by: camille).bytes)
        }
        await lab.stop()
    }

    @Test("a thousand submissions in a row from one key: past its burst the session is closed, rate-limited")
    func floodIsCut() async throws {
        let lab = try await ResidentsLab()
        let camille = SigningKey.generate()
        let connection = try await lab.connect(camille)
        _ = try await connection.join(try lab.code(), key: camille.publicKey)
        var accepted = 0
        var refusal: ResidentClientError?
        for n in 0..<1_000 {
            do {
                if try await connection.submit(lab.post("Annonce \(n)", by: camille).bytes).outcome == .accepted { accepted += 1 }
            } catch {
                refusal = error
                break
            }
        }
        #expect(accepted == 20)
        #expect(refusal == .refused(.rateLimited, "too many posts at once; try again in a minute"))
        await lab.stop()
    }

    @Test("new members' first three posts wait for an admin: not shown, not synced; approved they show unchanged, rejected they are gone")
    func moderation() async throws {
        let lab = try await ResidentsLab(moderation: .newMembers)
        let camille = SigningKey.generate()
        let connection = try await lab.connect(camille)
        _ = try await connection.join(try lab.code(), key: camille.publicKey)
        let posts = (0..<4).map { lab.post("Annonce \($0)", by: camille) }
        for post in posts.prefix(3) {
            #expect(try await connection.submit(post.bytes) == ResidentMessage.Answer(id: post.id, outcome: .held))
        }
        #expect(try await connection.submit(posts[0].bytes).outcome == .held, "a resend is held once")
        #expect(try lab.node.pending().map(\.envelope.id) == posts.prefix(3).map(\.id))
        let now = lab.node.now()
        #expect(try lab.node.store.syncItems(now: now, policy: FederationPolicy()).allSatisfy { item in !posts.contains { $0.id == item.id } })
        #expect(try !lab.node.view().items.contains { item in posts.contains { $0.id == item.id } })

        try lab.node.approve(String(posts[0].id.hex.prefix(10)))
        try lab.node.approve(posts[1].id.hex)
        try lab.node.reject(posts[2].id.hex)
        #expect(try lab.node.store.envelope(posts[0].id)?.bytes == posts[0].bytes, "the resident's own signed bytes")
        #expect(try lab.node.store.envelope(posts[2].id) == nil)
        #expect(try lab.node.pending().isEmpty)
        #expect(throws: NodeError.self) { try lab.node.approve(posts[2].id.hex) }
        // Two posts on the node: still new.
        #expect(try await connection.submit(posts[3].bytes).outcome == .held)
        try lab.node.approve(posts[3].id.hex)
        let fifth = lab.post("Annonce 5", by: camille)
        #expect(try await connection.submit(fifth.bytes).outcome == .accepted, "three posts on the node: no longer new")
        #expect(try lab.node.view().items.map(\.id).contains(fifth.id))
        connection.close()
        await lab.stop()
    }

    @Test("when the code's address does not answer, join finds the building's node on the local network (its service's res= port) and remembers it")
    func joinFindsTheNodeNearby() async throws {
        let lab = try await ResidentsLab()
        let lan = InMemoryLAN()
        let port = try #require(Int(lab.address.split(separator: ":").last!))
        // The node's service, as `palier run` publishes it (sync port aside), and another network's.
        let record = DiscoveryRecord(building: lab.node.building, networkID: "0123456789abcdef", name: "Résidence des Lilas", residentsPort: port)
        lan.publish(name: record.instanceName, txt: record.txt.map { Array($0.utf8) }, endpoint: Endpoint(host: "127.0.0.1", port: 7481))
        let decoy = DiscoveryRecord(building: SigningKey.generate().publicKey, networkID: "fedcba9876543210", name: "Ailleurs", residentsPort: 1)
        lan.publish(name: decoy.instanceName, txt: decoy.txt.map { Array($0.utf8) }, endpoint: Endpoint(host: "127.0.0.1", port: 7481))
        var code = try lab.code()
        code.addresses = ["127.0.0.1:1"]
        let home = ResidentHome(path: makeTemporaryDirectory("palier-home").path)
        let browser = InMemoryDiscovery(lan: lan, record: DiscoveryRecord(building: SigningKey.generate().publicKey, networkID: "", name: ""))
        let (key, membership) = try await home.join(code, discovery: browser)
        #expect(membership.addresses == [lab.address])
        #expect(try lab.node.store.membership(of: key.publicKey, in: lab.node.building, now: lab.node.now())?.role == .resident)

        // Not there at all: one sentence naming what was tried.
        var lost = try lab.code()
        lost.addresses = ["127.0.0.1:1"]
        lost.building = SigningKey.generate().publicKey
        await #expect(throws: NodeError.self) { _ = try await ResidentHome(path: makeTemporaryDirectory("palier-home").path).join(lost, discovery: browser) }
        await lab.stop()
    }

    @Test("connections that never finish a handshake take at most eight places per address; past that they are closed at once; a resident gets in once they go")
    func connectionFloodFromOneAddress() async throws {
        let lab = try await ResidentsLab()
        let port = try #require(Int(lab.address.split(separator: ":").last!))
        // Twelve sockets that say nothing.
        var sockets: [Int32] = []
        for _ in 0..<12 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            sockets.append(fd)
        }
        defer { for fd in sockets { close(fd) } }
        // Four of them (whichever the node met last: connections are set up on several event
        // loops) read end-of-file at once; eight stay open.
        func closedByTheNode(_ fd: Int32) -> Bool {
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pollfd, 1, 0) == 1 else { return false }
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, Int32(MSG_PEEK)) == 0
        }
        var closed = 0
        for _ in 0..<60 {
            closed = sockets.filter(closedByTheNode).count
            if closed >= 4 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(sockets.filter(closedByTheNode).count == 4)
        // A resident still gets in once the silent ones go (here: closed by their owner).
        for fd in sockets { close(fd) }
        sockets = []
        let camille = SigningKey.generate()
        _ = try await eventually(within: .seconds(5)) { (try? await lab.connect(camille)) != nil }
        let connection = try await lab.connect(camille)
        #expect(try await connection.join(try lab.code(), key: camille.publicKey).role == .resident)
        connection.close()
        await lab.stop()
    }

    // MARK: Short codes

    @Test("a resident joins with the short code (a PAKE over the session): the building is the node that proved it; the code then works no more, in either form")
    func shortCodeJoins() async throws {
        let lab = try await ResidentsLab()
        let made = try lab.node.enrol(.resident, displayName: "Camille, 3e étage", addresses: [lab.address])
        let camille = SigningKey.generate()
        let connection = try await lab.connectAnywhere(camille)
        #expect(connection.node == lab.node.building)
        let joined = try await connection.join(try ShortEnrolmentCode(text: made.enrolment.shortCode.text.lowercased()))
        #expect(joined.role == .resident && joined.displayName == "Camille, 3e étage")
        connection.close()
        #expect(try lab.node.store.membership(of: camille.publicKey, in: lab.node.building, now: lab.node.now())?.role == .resident)
        let other = SigningKey.generate()
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connectAnywhere(other).join(made.enrolment.shortCode)
        }
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connect(other).join(made.code, key: other.publicKey)
        }
        // palier's short form of an enrolment (node-local, docs/protocol.md §15.8).
        let example = Enrolment(id: Array(0..<8), secret: Array(16..<32), role: .resident, displayName: "x", expiresAt: 1)
        #expect(example.shortCode.canonical == "000GSPGT7MJJ")
        // Open codes never share a short id.
        let ids = try (0..<40).map { _ in Enrolment.shortID(of: try lab.node.enrol(.resident, displayName: "n", addresses: []).enrolment.id) }
        #expect(Set(ids).count == ids.count)
        await lab.stop()
    }

    @Test("a wrong short code costs a try per run (five, then burnt, even for the right one); unknown or expired codes are refused; nothing is granted")
    func badShortCodes() async throws {
        let lab = try await ResidentsLab()
        let right = try lab.shortCode()
        let wrong = ShortEnrolmentCode(shortID: right.shortID, secret: (right.secret + 1) % ShortEnrolmentCode.secretLimit)
        var keys: [SigningKey] = []
        for left in (0..<ResidentProtocol.maximumJoinTries).reversed() {
            let key = SigningKey.generate()
            keys.append(key)
            await #expect(throws: ResidentClientError.refused(.wrongSecret, "\(left)")) { _ = try await lab.connectAnywhere(key).join(wrong) }
        }
        let late = SigningKey.generate()
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connectAnywhere(late).join(right)
        }
        for key in keys + [late] {
            #expect(try lab.node.store.membership(of: key.publicKey, in: lab.node.building, now: lab.node.now()) == nil)
        }

        // A run left unconfirmed still costs its try.
        let second = try lab.shortCode()
        let silent = try await lab.connectAnywhere(SigningKey.generate())
        let run = try CPace(password: second.password, sessionID: silent.handshakeHash)
        guard case .challenge = try await silent.ask(.claim(shortID: second.shortID, element: run.element)) else {
            Issue.record("no challenge")
            return
        }
        silent.close()
        let enrolment = try #require(try lab.node.store.openEnrolments(now: lab.node.now()).first { $0.shortCode == second })
        #expect(enrolment.triesLeft == ResidentProtocol.maximumJoinTries - 1)

        // An identity element, a confirmation without a claim: protocol violations.
        await #expect(throws: ResidentClientError.refused(.protocolViolation, "that claim's element is not valid")) {
            _ = try await lab.connectAnywhere(SigningKey.generate()).ask(.claim(shortID: second.shortID, element: [UInt8](repeating: 0, count: 32)))
        }
        await #expect(throws: ResidentClientError.refused(.protocolViolation, "a confirmation without a claim")) {
            _ = try await lab.connectAnywhere(SigningKey.generate()).ask(.confirm([UInt8](repeating: 0, count: 32)))
        }

        let brief = try lab.shortCode(validFor: 1)
        try await Task.sleep(for: .milliseconds(5))
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connectAnywhere(SigningKey.generate()).join(brief)
        }
        // Unknown: an id no open code has.
        let open = Set(try lab.node.store.openEnrolments(now: lab.node.now()).map { $0.shortCode.shortID })
        let unknown = ShortEnrolmentCode(shortID: (0...UInt16.max).first { !open.contains($0) }!, secret: 1)
        await #expect(throws: ResidentClientError.refused(.codeNotValid, "this code is unknown, expired, already used or burnt")) {
            _ = try await lab.connectAnywhere(SigningKey.generate()).join(unknown)
        }
        await lab.stop()
    }

    @Test("with a short code and no address, join asks each building nearby until one knows the code; a node that accepts without proving it is refused")
    func shortCodeFindsItsBuildingNearby() async throws {
        let ours = try await ResidentsLab()
        let neighbour = try await ResidentsLab()
        let lan = InMemoryLAN()
        for lab in [neighbour, ours] {
            let port = try #require(Int(lab.address.split(separator: ":").last!))
            let record = DiscoveryRecord(building: lab.node.building, networkID: "0123456789abcdef", name: "Résidence", residentsPort: port)
            lan.publish(name: record.instanceName, txt: record.txt.map { Array($0.utf8) }, endpoint: Endpoint(host: "127.0.0.1", port: 7481))
        }
        let code = try ours.shortCode()
        let home = ResidentHome(path: makeTemporaryDirectory("palier-home").path)
        let browser = InMemoryDiscovery(lan: lan, record: DiscoveryRecord(building: SigningKey.generate().publicKey, networkID: "", name: ""))
        let (key, membership) = try await home.join(code, addresses: [], discovery: browser)
        #expect(membership.buildingKey == ours.node.building && membership.addresses == [ours.address])
        #expect(try ours.node.store.membership(of: key.publicKey, in: ours.node.building, now: ours.node.now())?.role == .resident)
        #expect(try neighbour.node.store.membership(of: key.publicKey, in: neighbour.node.building, now: neighbour.node.now()) == nil)

        // No building knows it: one sentence.
        let stranger = ShortEnrolmentCode(shortID: code.shortID, secret: code.secret)
        await #expect(throws: NodeError.self) {
            _ = try await ResidentHome(path: makeTemporaryDirectory("palier-home").path).join(stranger, addresses: [], discovery: browser, within: .seconds(2))
        }

        // An impostor that answers "joined" without knowing the code: nothing is remembered.
        let impostor = try await ImpostorNode.start()
        let fooled = ResidentHome(path: makeTemporaryDirectory("palier-home").path)
        let code2 = try ours.shortCode()
        do {
            _ = try await fooled.join(code2, addresses: [impostor.address], discovery: nil)
            Issue.record("the impostor was believed")
        } catch {
            guard case .codeNotProven(let key) = error.code else { Issue.record("\(error)"); return }
            #expect(key == impostor.key.publicKey)
        }
        #expect(try fooled.membership() == nil)
        impostor.listener.close()
        await ours.stop()
        await neighbour.stop()
    }
}

/// A node that plays the residents' channel without knowing any code: its challenge carries a
/// made-up confirmation, and it answers any confirmation with `joined`.
struct ImpostorNode {
    let key = SigningKey.generate()
    var listener: SyncListener! = nil
    var address = ""

    static func start() async throws -> ImpostorNode {
        var node = ImpostorNode()
        let key = node.key
        node.listener = try await TCPTransport(host: "127.0.0.1", port: 0).listen { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandlers([
                    ByteToMessageHandler(SyncFrameDecoder()),
                    MessageToByteHandler(SyncFrameEncoder()),
                    NoiseSessionHandler(initiator: false, signingKey: key, profile: .residents),
                    Handler(),
                ])
            }
        }
        node.address = "127.0.0.1:\(node.listener.port!)"
        return node
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = SyncInbound
        typealias OutboundOut = [UInt8]

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .message(let bytes) = unwrapInboundIn(data), let message = try? ResidentMessage.decode(bytes) else { return }
            let answer: ResidentMessage
            switch message {
            case .claim:
                let guess = try! CPace(password: Array("000000000000".utf8), sessionID: Array(repeating: 0, count: 32))
                answer = .challenge(element: guess.element, confirmation: [UInt8](repeating: 9, count: 32))
            case .confirm:
                answer = .joined(role: .resident, displayName: "Camille", grant: EnvelopeID(bytes: [UInt8](repeating: 1, count: 32))!)
            default:
                return
            }
            context.writeAndFlush(wrapOutboundOut(answer.encoded()), promise: nil)
        }
    }
}
