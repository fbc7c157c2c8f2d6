import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PalierCore
import PalierCrypto
@testable import PalierFeed
@testable import PalierNode
import PalierStore
import PalierTestSupport
import Testing

/// The kiosk page of a running node in real headless Chromium, in portrait and in landscape,
/// in French and in English (scripts/kiosk-layout.py): the longest title and body the limits
/// allow, a followed neighbour's alert, a promo, twelve events, then this building's alert.
/// Screenshots in test-artifacts/.
@Suite(.serialized)
struct KioskLayoutTests {
    static let longestTitle = String(String(repeating: "Assemblée générale extraordinaire des copropriétaires : ravalement ", count: 3)
        .prefix(Limits.maximumTitleScalars))
    static let longestBody: String = {
        let sentence = "Les travaux de ravalement de la façade sur rue commencent lundi ; l'échafaudage restera en place six semaines. "
        var body = ""
        while body.utf8.count + sentence.utf8.count <= Limits.maximumBodyBytes { body += sentence }
        return body
    }()
    static let neighbourAlert = "Coupure d'eau aux Tilleuls"
    static let promo = "Galette des rois : -20 % ce week-end"

    /// A node with the screen's test playlist, its kiosk page on a free port.
    final class Screen: Sendable {
        let node: BuildingNode
        let task: Task<Void, any Error>
        let port: Int

        init(language: String) async throws {
            var configuration = NodeConfiguration(buildingName: "Résidence des Lilas")
            configuration.sync.port = 0
            configuration.sync.discovery = false
            configuration.residents.port = 0
            configuration.feed.language = language
            port = Self.freePort()
            configuration.feed.kioskPort = port
            configuration.feed.panel = KioskPanel(caretaker: "Mme Martin · loge au rez-de-chaussée · 06 12 34 56 78",
                                                  emergency: [.init(label: "Pompiers", number: "18"), .init(label: "SAMU", number: "15")])
            let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
            node = try BuildingNode.initialise(directory, configuration: configuration)
            try Self.fill(node)
            var logger = Logger(label: "test-kiosk")
            logger.logLevel = .critical
            let runtime = try NodeRuntime(node: node, logger: logger, options: NodeRuntime.Options())
            task = Task { try await runtime.run(signals: false) }
            _ = try await eventually(within: .seconds(10)) { Self.accepts(port: self.port) }
        }

        static func fill(_ node: BuildingNode) throws {
            let now = node.now()
            let hour: UInt64 = 3_600_000
            // A followed neighbour whose alert and events reach this node, all its kinds shown.
            let tilleuls = SigningKey.generate()
            let theirs = [
                Fixtures.profile(of: tilleuls, name: "Les Tilleuls", at: now - 5_000),
                Fixtures.post(.alert, by: tilleuls, in: tilleuls.publicKey, at: now - 4_000, lifetime: Fixtures.day, title: KioskLayoutTests.neighbourAlert,
                              body: "Jeudi de 9 h à 12 h, rue des Tilleuls."),
            ]
            let report = try node.store.ingest(theirs.map(\.bytes), now: now)
            #expect(report.accepted.count == theirs.count)
            try node.setStance(.follow, for: tilleuls.publicKey, kinds: Set(Kind.contentKinds))

            let city = SigningKey.generate(), bakery = SigningKey.generate()
            try node.grant(.city, to: city.publicKey, displayName: "Mairie du 11e")
            try node.grant(.merchant, to: bakery.publicKey, displayName: "Boulangerie Lenoir")
            try node.post(.notice, PostContent(title: KioskLayoutTests.longestTitle, body: KioskLayoutTests.longestBody, language: "fr"),
                          scope: .building, as: node.buildingKey)
            try node.post(.promo, PostContent(title: KioskLayoutTests.promo, body: "À la boulangerie Lenoir, 12 rue des Lilas.", language: "fr"),
                          as: bakery)
            let events = ["Fête des voisins", "Concert au square", "Atelier vélo", "Conseil de quartier", "Vide-grenier",
                          "Lecture à la médiathèque", "Marché de Noël", "Cinéma en plein air", "Collecte de jouets",
                          "Repair café", "Visite du jardin partagé", "Bal du 14 juillet"]
            for (index, title) in events.enumerated() {
                let start = now + UInt64(index + 1) * 11 * hour
                try node.post(.event, PostContent(title: title, body: "", language: "fr",
                                                  event: EventDetails(startsAt: start, endsAt: start + 2 * hour, place: "Square Maurice-Gardette")),
                              as: index % 2 == 0 ? city : node.buildingKey)
            }
        }

        func postOurAlert() throws {
            try node.post(.alert, PostContent(title: "Coupure d'eau générale", body: "Jeudi de 9 h à 12 h : travaux sur la colonne montante.",
                                              language: "fr"), scope: .building, as: node.buildingKey)
        }

        func stop() async {
            task.cancel()
            _ = await task.result
        }

        static func freePort() -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        static func accepts(port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }
    }

    static func check(_ screen: Screen, language: String, phase: String) async throws -> ScriptResult {
        let artifacts = packageRoot.appendingPathComponent("test-artifacts").path
        return try await onOwnThread { try runProjectScript("scripts/kiosk-layout.py", interpreter: "python3", [
            "http://127.0.0.1:\(screen.port)/", language, phase, artifacts,
            "--longest", Self.longestTitle, "--neighbour-alert", Self.neighbourAlert, "--promo", Self.promo,
        ], captureErrors: true) }
    }

    @Test("in portrait and in landscape, in French and in English: everything fits, neighbours never take over, our alert keeps the header",
          arguments: ["fr", "en"])
    func layouts(language: String) async throws {
        let screen = try await Screen(language: language)
        let rotation = try await Self.check(screen, language: language, phase: "rotation")
        #expect(rotation.status == 0, "\(rotation.output)")
        print(rotation.output)
        try screen.postOurAlert()
        let alert = try await Self.check(screen, language: language, phase: "alert")
        #expect(alert.status == 0, "\(alert.output)")
        print(alert.output)
        await screen.stop()
    }

    /// The status line of `GET path` sent to 127.0.0.1:port with `Host: host`.
    static func statusLine(port: Int, host: String, path: String = "/feed.json") -> String {
        response(port: port, host: host, path: path).components(separatedBy: "\r\n").first ?? ""
    }

    /// The whole response to `GET path` (the server closes the connection).
    static func response(port: Int, host: String, path: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        // Never wait for ever on a server that keeps the connection.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        guard withUnsafePointer(to: &address, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }) == 0 else { return "no connection" }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        _ = send(fd, request, request.count, 0)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("the kiosk answers only to its own names: a page that points another name at 127.0.0.1 cannot read the feed")
    func onlyItsOwnNames() async throws {
        let screen = try await Screen(language: "fr")
        for host in ["127.0.0.1", "127.0.0.1:\(screen.port)", "localhost:\(screen.port)", "LOCALHOST", "[::1]:\(screen.port)"] {
            #expect(Self.statusLine(port: screen.port, host: host).hasPrefix("HTTP/1.1 200"), "Host: \(host)")
        }
        for host in ["evil.example", "evil.example:\(screen.port)", "127.0.0.1.nip.io", "localhost.evil.example", ""] {
            #expect(Self.statusLine(port: screen.port, host: host).hasPrefix("HTTP/1.1 421"), "Host: \(host)")
            #expect(Self.statusLine(port: screen.port, host: host, path: "/").hasPrefix("HTTP/1.1 421"), "Host: \(host)")
        }
        // The page in the screen's language, with the building's panel.
        let page = Self.response(port: screen.port, host: "127.0.0.1", path: "/")
        #expect(page.contains("<html lang=\"fr\">") && page.contains("Au programme"))
        #expect(page.contains("Mme Martin · loge au rez-de-chaussée · 06 12 34 56 78") && page.contains("Urgences") && page.contains("Pompiers"))
        await screen.stop()
        // A configured name is one of its own.
        var settings = KioskServer.Page()
        settings.hostNames = ["ecran-hall.local"]
        let names = KioskServer.hostNames(settings)
        #expect(names.contains(KioskServer.hostName("ecran-hall.local:7480")) && !names.contains(KioskServer.hostName("ecran-hall.local.evil")))
    }
}
