import Foundation
import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// The real `palier` binary: an admin's node, and a resident on "their own computer" — another
/// Unix user with its own HOME (via runuser, when the tests run as root), in a directory with
/// no node — who joins with a code, posts, goes offline and catches up from the outbox.
@Suite(.serialized) struct ResidentProcessTests {
    static let residentUserName = "palier-test-resident"

    typealias Output = ProcessOutput

    /// Runs the palier binary `binary` (as `user` through runuser, when given) in `directory`
    /// with `environment`.
    static func run(_ binary: String, _ arguments: [String], in directory: String, environment: [String: String], user: String?) throws -> Output {
        guard let user else { return try runProcess(binary, arguments, in: directory, environment: environment) }
        return try runProcess("/usr/sbin/runuser", ["-u", user, "--", "/usr/bin/env", "PALIER_LANG=en"] + environment.map { "\($0)=\($1)" } + [binary] + arguments,
                              in: directory)
    }

    /// As root: a system user for the resident (made once), so that the resident's files are
    /// really another user's. Otherwise nil: the same user, with another HOME.
    static func residentUser() throws -> String? {
        guard getuid() == 0 else { return nil }
        if getpwnam(residentUserName) == nil {
            let add = Process()
            add.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            add.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", residentUserName]
            try add.run()
            add.waitUntilExit()
            guard add.terminationStatus == 0 || getpwnam(residentUserName) != nil else { return nil }
        }
        return residentUserName
    }

    @Test("a resident joins with a code from `enrol`, posts from their own account, and catches up from the outbox; their key never reaches the node")
    func residentJourney() async throws {
        let built = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("palier").path
        try #require(FileManager.default.isExecutableFile(atPath: built), "palier binary not built at \(built)")
        let user = try Self.residentUser()
        // The resident's world: a copy of the binary they may run, a HOME and a working directory.
        let residentRoot = makeTemporaryDirectory("palier-resident")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: residentRoot.path)
        let binary = residentRoot.appendingPathComponent("palier").path
        try FileManager.default.copyItem(atPath: built, toPath: binary)
        let home = residentRoot.appendingPathComponent("home").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        if let user, let entry = getpwnam(user) {
            chown(home, entry.pointee.pw_uid, entry.pointee.pw_gid)
        }
        let asResident: ([String]) throws -> Output = { arguments in
            try Self.run(binary, arguments, in: home, environment: ["HOME": home, "PALIER_DIR": ""].filter { !$0.value.isEmpty }, user: user)
        }

        // The admin's node A (kiosk page on, residents' channel on loopback), and a neighbouring
        // building B on the same network that follows A.
        let a = LiveProcessTests(), b = LiveProcessTests()
        let dataDir = a.dataDir
        let admin: ([String]) throws -> Output = { arguments in try a.palier(arguments: arguments) }
        #expect(try admin(["init", "--name", "Résidence des Lilas"]).status == 0)
        try b.palier("init", "--name", "Le Clos")
        let invite = try #require(try a.palier("network").stdout.split(separator: " ").first { $0.hasPrefix("palier-invite-") }
            .map { String($0.split(separator: "\n")[0]) })
        try b.palier("network", "join", invite, "--replace")
        try b.palier("follow", try a.palier("identity", "show").stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let port = KioskBrowserTests.freePort(), kiosk = KioskBrowserTests.freePort()
        let syncA = KioskBrowserTests.freePort(), syncB = KioskBrowserTests.freePort()
        try a.configure("feed", ["kioskPort": kiosk])
        try a.configure("sync", ["listen": "127.0.0.1", "port": syncA, "discovery": false])
        try a.configure("residents", ["listen": "127.0.0.1", "port": port, "moderation": "new-members"])
        try b.configure("feed", ["kioskPort": 0])
        try b.configure("sync", ["listen": "127.0.0.1", "port": syncB, "discovery": false, "staticPeers": ["127.0.0.1:\(syncA)"]])
        try b.configure("residents", ["port": 0])

        func startNode(_ node: LiveProcessTests) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: built)
            process.arguments = ["run", "--data-dir", node.dataDir]
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        var node = try startNode(a)
        let neighbour = try startNode(b)
        defer {
            for process in [node, neighbour] where process.isRunning { process.terminate(); process.waitUntilExit() }
        }

        // Before joining: one sentence, and nothing made.
        let early = try asResident(["post", "tip", "--title", "Bonjour"])
        #expect(early.status == 66)
        #expect(early.stderr.contains("has not joined a building yet"))

        let enrol = try admin(["enrol", "--role", "resident", "--name", "Camille, 3e étage", "--address", "127.0.0.1:\(port)"])
        #expect(enrol.status == 0)
        let code = try #require(enrol.stdout.split(separator: " ").first { $0.hasPrefix("palier-join-") }.map { String($0.split(separator: "\n")[0]) })
        // The short form, to type: the first `palier join` line.
        let short = try #require(enrol.stdout.split(separator: "\n").first { $0.hasPrefix("  palier join ") }.map { String($0.dropFirst(14)) })
        #expect(short.count == 14, "\(enrol.stdout)")
        let made = try asResident(["identity", "new"])
        #expect(made.status == 0 && made.stdout.contains("Your key: "))
        #expect(try asResident(["identity", "new"]).status == 73, "a key is never replaced")
        var joined = try asResident(["join", short, "--address", "127.0.0.1:\(port)"])
        for _ in 0..<50 where joined.status == 69 {
            // The node may still be starting.
            try await Task.sleep(for: .milliseconds(100))
            joined = try asResident(["join", short, "--address", "127.0.0.1:\(port)"])
        }
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.stdout.contains("Welcome, Camille, 3e étage"))
        let again = try asResident(["join", code])
        #expect(again.status == 77)
        #expect(again.stderr.contains("expired, already used, burnt or unknown"))

        // A new member's post waits for the admin (moderation new-members, the default).
        let posted = try asResident(["post", "tip", "--title", "Vide-grenier samedi dans la cour"])
        #expect(posted.status == 0, "\(posted.stderr)")
        #expect(posted.stdout.contains("held for moderation"))
        #expect(!(try admin(["list"]).stdout.contains("Vide-grenier")))
        #expect(try admin(["status"]).stdout.contains("Waiting for moderation: 1 post (palier pending)"))
        let pending = try admin(["pending"])
        #expect(pending.stdout.contains("Vide-grenier samedi dans la cour") && pending.stdout.contains("Camille, 3e étage"))
        let heldID = try #require(pending.stdout.split(separator: " ").first.map(String.init))
        #expect(try admin(["approve", heldID]).status == 0)
        #expect(try admin(["list"]).stdout.contains("Vide-grenier samedi dans la cour"))
        #expect(try admin(["list"]).stdout.contains("Camille, 3e étage (resident)"))
        #expect(try admin(["approve", heldID]).status == 66)
        // On the kiosk page's feed, and at the neighbouring building.
        var onKiosk = false, atNeighbour = false
        for _ in 0..<100 where !(onKiosk && atNeighbour) {
            if !onKiosk { onKiosk = Self.httpGet(port: kiosk, path: "/feed.json").contains("Vide-grenier samedi dans la cour") }
            if !atNeighbour { atNeighbour = try b.palier("list").stdout.contains("Vide-grenier samedi dans la cour") }
            if !(onKiosk && atNeighbour) { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(onKiosk, "the approved post is not on the kiosk page")
        #expect(atNeighbour, "the approved post did not reach the neighbouring building")
        #expect(try admin(["show", heldID]).stdout.contains("status:    shown"))

        // The resident edits it from their computer (held too: still a new member), then the
        // admin approves the edit and hides the post.
        let edited = try asResident(["edit", heldID, "--title", "Vide-grenier dimanche dans la cour"])
        #expect(edited.status == 0, "\(edited.stderr)")
        #expect(edited.stdout.contains("held for moderation"))
        let editID = try #require(try admin(["pending"]).stdout.split(separator: " ").first.map(String.init))
        #expect(try admin(["show", editID]).stdout.contains("status:    waiting for moderation"))
        #expect(try admin(["approve", editID]).status == 0)
        #expect(try admin(["list"]).stdout.contains("Vide-grenier dimanche dans la cour"))
        #expect(try admin(["hide", heldID, "--reason", "hors sujet"]).status == 0)
        #expect(try admin(["show", heldID]).stdout.contains(": hors sujet"))
        #expect(try admin(["hidden"]).stdout.contains("hidden by the building"))
        #expect(!(try admin(["list"]).stdout.contains("Vide-grenier dimanche")))
        #expect(try admin(["unhide", heldID]).status == 0)
        #expect(try admin(["list"]).stdout.contains("Vide-grenier dimanche dans la cour"))
        #expect(try admin(["hidden"]).stdout.contains("This building hides no post."))
        #expect(try admin(["unhide", heldID]).status == 66)
        let alert = try asResident(["post", "alert", "--title", "Coupure d'eau"])
        #expect(alert.status == 77)
        // Over the limits: one sentence, nothing signed, nothing waiting.
        let long = try asResident(["post", "tip", "--title", String(repeating: "a", count: 121)])
        #expect(long.status == 65)
        #expect(long.stderr.contains("the title is 121 characters; the limit is 120"))
        #expect(try asResident(["outbox"]).stdout.contains("Nothing waits"))

        // Offline: the post and its photo wait in the outbox, and go at the next command.
        node.terminate()
        node.waitUntilExit()
        let photo = home + "/velo.jpg"
        try FileManager.default.copyItem(atPath: ImageProcessTests.fixture("photo-gps.jpg"), toPath: photo)
        if let user, let entry = getpwnam(user) { chown(photo, entry.pointee.pw_uid, entry.pointee.pw_gid) }
        let offline = try asResident(["post", "classified", "--title", "Vélo à donner", "--image", photo, "--alt", "Un dégradé bleu et rose"])
        #expect(offline.status == 75)
        #expect(offline.stdout.contains("kept in the outbox"))
        #expect(try asResident(["outbox"]).stdout.contains("Vélo à donner"))
        node = try startNode(a)
        var sent = try asResident(["outbox", "send"])
        for _ in 0..<50 where !sent.stdout.contains("held") {
            try await Task.sleep(for: .milliseconds(100))
            sent = try asResident(["outbox", "send"])
        }
        #expect(sent.stdout.contains("Vélo à donner\": held for moderation"))
        #expect(try asResident(["outbox"]).stdout.contains("Nothing waits"))
        #expect(try admin(["pending"]).stdout.contains("Vélo à donner"))
        // The photo came with it (without its GPS position), and left the resident's outbox.
        let images = ImageProcessTests.blobFiles(a)
        #expect(images.count == 1)
        if let name = images.first { #expect(try ImageProcessTests.blobBytes(a, name).firstRange(of: Array("GPS".utf8)) == nil) }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: home + "/.config/palier/outbox/images")) ?? []).isEmpty)

        // The resident's secret key exists under their HOME only, 0600, and nowhere in the node's data.
        let keyPath = home + "/.config/palier/key"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        if let user, let entry = getpwnam(user) { #expect((attributes[.ownerAccountID] as? UInt) == UInt(entry.pointee.pw_uid)) }
        let seedHex = try #require(try String(contentsOfFile: keyPath, encoding: .utf8).split(separator: " ").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let seed = try #require(bytes(fromHex: seedHex))
        for file in FileManager.default.enumerator(atPath: dataDir)!.compactMap({ $0 as? String }) {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: dataDir).appendingPathComponent(file))) ?? Data()
            #expect(data.range(of: Data(seedHex.utf8)) == nil && data.range(of: Data(seed)) == nil, "\(file) holds the resident's secret key")
        }
    }

    @Test("enrol prints the code as a QR code that a reader (zbarimg) reads back as the same code")
    func enrolmentQRCode() throws {
        let built = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("palier").path
        let zbarimg = "/usr/bin/zbarimg"
        try #require(FileManager.default.isExecutableFile(atPath: zbarimg), "zbar-tools is not installed: run scripts/setup.sh --tests")
        let dataDir = makeTemporaryDirectory("palier-qr").appendingPathComponent(".palier").path
        #expect(try Self.run(built, ["init", "--name", "Résidence des Lilas", "--data-dir", dataDir], in: "/", environment: [:], user: nil).status == 0)
        let enrol = try Self.run(built, ["enrol", "--name", "Camille, 3e étage", "--address", "192.168.1.20:7482", "--data-dir", dataDir],
                                 in: "/", environment: [:], user: nil)
        #expect(enrol.status == 0)
        let code = try #require(enrol.stdout.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("palier-join-") }.map(String.init)
        }.first)
        // The block after "Or scan it": each character is one module wide and two tall.
        let lines = enrol.stdout.components(separatedBy: "\n").drop { !$0.hasPrefix("Or scan it") }.dropFirst().filter { !$0.isEmpty }
        try #require(!lines.isEmpty, "no QR code printed")
        let width = lines.map { $0.count }.max()!
        var rows: [[Bool]] = []
        for line in lines {
            let cells = Array(line.padding(toLength: width, withPad: " ", startingAt: 0))
            rows.append(cells.map { $0 == "█" || $0 == "▀" })
            rows.append(cells.map { $0 == "█" || $0 == "▄" })
        }
        // A plain PBM image, 4 pixels a module, for zbarimg.
        let scale = 4
        var pbm = "P1\n\(width * scale) \(rows.count * scale)\n"
        for row in rows {
            let line = row.flatMap { Array(repeating: $0 ? "1" : "0", count: scale) }.joined(separator: " ")
            for _ in 0..<scale { pbm += line + "\n" }
        }
        let image = makeTemporaryDirectory("palier-qr-image").appendingPathComponent("code.pbm")
        try pbm.write(to: image, atomically: true, encoding: .utf8)
        let read = try Self.run(zbarimg, ["--quiet", "--raw", image.path], in: "/", environment: [:], user: nil)
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == code.uppercased())
    }

    /// The body (and headers) of a plain HTTP/1.0 GET on loopback; empty when nothing answers.
    static func httpGet(port: Int, path: String) -> String {
        guard let fd = KioskBrowserTests.connectLoopback(port: port) else { return "" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        _ = send(fd, request, request.count, 0)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
