import ArgumentParser
import Foundation
import GRDB
@testable import palier
import PalierCore
import PalierFeed
import PalierNode
import PalierStore
import PalierTestSupport
import Testing

/// Runs `palier` commands in-process on a temporary data directory.
struct CLI {
    let dataDir = makeTemporaryDirectory("palier-cli").appendingPathComponent(".palier").path

    func run(_ arguments: [String]) async throws {
        var command = try Palier.parseAsRoot(arguments + ["--data-dir", dataDir])
        if var asyncCommand = command as? AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }

    /// Runs a command that must be refused; returns the error it gave.
    func refusal(_ arguments: [String]) async -> NodeError? {
        do {
            try await run(arguments)
            Issue.record("palier \(arguments.joined(separator: " ")) was accepted")
            return nil
        } catch let error as NodeError {
            return error
        } catch {
            Issue.record("palier \(arguments.joined(separator: " ")) failed with \(error), not a NodeError")
            return nil
        }
    }

    /// Everything a refusal must leave as it was: the view, the stored set and counters, the files.
    func snapshot() throws -> [String] {
        let node = try BuildingNode.open(NodeDirectory(path: dataDir))
        let stats = try node.store.statistics()
        let files = try FileManager.default.subpathsOfDirectory(atPath: dataDir).filter { !$0.hasPrefix("palier.sqlite") }.sorted()
        return [
            hexString(try node.store.stateDigest(now: node.now())),
            "\(stats.envelopes) \(stats.erased) \(stats.refused) \(stats.deferredFutureDated) \(stats.lastTimestamp)",
        ] + files
    }

    /// A node with a granted resident (camille), a merchant (boulangerie) and one tip.
    static func withBuilding() async throws -> CLI {
        let cli = CLI()
        try await cli.run(["init", "--name", "Résidence Les Tilleuls"])
        try await cli.run(["identity", "new", "camille"])
        try await cli.run(["identity", "new", "boulangerie"])
        try await cli.run(["identity", "new", "stranger"])
        try await cli.run(["grant", "camille", "--role", "resident", "--name", "Camille"])
        try await cli.run(["grant", "boulangerie", "--role", "merchant", "--name", "Boulangerie Martin"])
        try await cli.run(["post", "tip", "--as", "camille", "--title", "Vélo trouvé"])
        return cli
    }
}

@Suite struct CLIRefusalTests {
    @Test func noNodeInitialised() async throws {
        let cli = CLI()
        for command in [["status"], ["list"], ["post", "tip", "--title", "x"]] {
            let error = await cli.refusal(command)
            #expect(error?.exitCode == 66)
            #expect(error?.description == "No palier node is initialised in \(cli.dataDir); run `palier init --name \"<building name>\"` first.")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.dataDir))
    }

    /// Each refusal the issue names, with its one-sentence message, exit code, and an unchanged store.
    @Test(arguments: [
        (["post", "poem", "--title", "x"], 64, "Unknown kind 'poem'; the kinds you can post are tip, classified, event, notice, flash, alert, promo."),
        (["post", "edit", "--title", "x"], 64, "Unknown kind 'edit'; the kinds you can post are tip, classified, event, notice, flash, alert, promo."),
        (["post", "tip", "--as", "camille", "--title", "x", "--body", String(repeating: "é", count: 1001)], 65,
         "Nothing was posted: the body is 2002 bytes; the limit is 2000 bytes."),
        (["post", "tip", "--as", "camille", "--title", String(repeating: "a", count: 121)], 65,
         "Nothing was posted: the title is 121 characters; the limit is 120 characters."),
        (["post", "tip", "--as", "camille", "--title", "x", "--expires", "91d"], 65,
         "Nothing was posted: the expiry is 91 days after creation; the limit is 90 days."),
        (["post", "tip", "--as", "camille", "--title", "x", "--expires", "2020-01-01"], 64, "The expiry 2020-01-01 00:00 is not in the future."),
        (["post", "tip", "--as", "camille", "--title", "x", "--expires", "bientôt"], 64,
         "'bientôt' is not a time; use a duration such as 90m, 36h, 7d or a date such as 2026-12-24 or 2026-12-24T18:30."),
        (["post", "alert", "--as", "camille", "--title", "x"], 77, "A resident may not post an alert; a resident may post: tip, classified, event."),
        (["post", "tip", "--as", "boulangerie", "--title", "x"], 77, "A merchant may not post a tip; a merchant may post: promo."),
        (["post", "tip", "--as", "nobody", "--title", "x"], 66, "There is no identity named 'nobody'; create it with `palier identity new nobody`."),
        (["grant", "camille", "--role", "king", "--name", "x"], 64,
         "Unknown role 'king'; the roles are resident, admin, council, syndic, landlord, elevator, merchant, city, association."),
        (["hide", "0000", "--as", "camille"], 66, "No envelope with id 0000 is held by this node."),
        (["init", "--name", "Encore"], 73, "IS_ALREADY"),
        (["network", "join", "palier-invite-aoqq-pp7t-zyil-4hlq-3umo-os6a-tft6-jvrq-tosq-2xy5-3sdg-iesv-gg4g-73da", "--replace"], 64,
         "That invite string is not valid: the key's check letters do not match: it was probably mistyped; ask for it again (it starts with palier-invite-)."),
        (["network", "create"], 73, "NETWORK_EXISTS"),
        (["follow", "not-a-key"], 66, "No building this node knows is named 'not-a-key' or has a key starting so; `palier peers` lists those it knows (names, and keys to copy)."),
        (["follow", "not-a-key", "--kinds", "event,poem"], 64, "Unknown kind 'poem'; the kinds you can post are tip, classified, event, notice, flash, alert, promo."),
        (["post", "tip", "--as", "camille", "--title", "x", "--from", "2020-01-01", "--expires", "2020-01-02"], 64,
         "The expiry 2020-01-02 00:00 is not in the future."),
        (["post", "tip", "--as", "camille", "--title", "x", "--from", "10d", "--expires", "5d"], 65,
         "Nothing was posted: the post would never be shown: it starts showing after it stops (or after it expires)."),
    ] as [([String], Int32, String)])
    func refusalsAreOneClearSentenceAndChangeNothing(arguments: [String], exitCode: Int32, message: String) async throws {
        let cli = try await CLI.withBuilding()
        let before = try cli.snapshot()
        let error = await cli.refusal(arguments)
        #expect(error?.exitCode == exitCode)
        if message == "IS_ALREADY" {
            #expect(error?.description == "A palier node is already initialised in \(cli.dataDir); nothing was changed.")
        } else if message == "NETWORK_EXISTS" {
            #expect(error?.description.hasPrefix("This node already belongs to network ") == true)
        } else {
            #expect(error?.description == message)
        }
        #expect(try cli.snapshot() == before)
    }

    @Test func anUngrantedAuthorIsRefused() async throws {
        let cli = try await CLI.withBuilding()
        let before = try cli.snapshot()
        let node = try BuildingNode.open(NodeDirectory(path: cli.dataDir))
        let stranger = try node.identity(named: "stranger").publicKey
        let error = await cli.refusal(["post", "tip", "--as", "stranger", "--title", "x"])
        #expect(error?.exitCode == 77)
        #expect(error?.description == "Key \(stranger.shortText)… has no valid grant from this building; an admin must run `palier grant \(stranger.text) --role <role> --name <name>` first.")
        #expect(try cli.snapshot() == before)
    }

    @Test func anUnsafeKeyFileIsRefused() async throws {
        let cli = try await CLI.withBuilding()
        let keyPath = "\(cli.dataDir)/identities/camille.key"
        chmod(keyPath, 0o644)
        let before = try cli.snapshot()
        let error = await cli.refusal(["post", "tip", "--as", "camille", "--title", "x"])
        #expect(error?.exitCode == 77)
        #expect(error?.description == "Key file \(keyPath) is accessible to group or others (mode 644); run `chmod 600 \(keyPath)` and try again.")
        #expect(try cli.snapshot() == before)
        // The building key too: nothing runs on a key others can read.
        chmod("\(cli.dataDir)/building.key", 0o640)
        let buildingError = await cli.refusal(["list"])
        #expect(buildingError?.exitCode == 77)
    }

    @Test func editAndRetractOfSomeoneElsesPostAreRefused() async throws {
        let cli = try await CLI.withBuilding()
        let node = try BuildingNode.open(NodeDirectory(path: cli.dataDir))
        let tip = try node.view().items[0].id
        let before = try cli.snapshot()
        for command in [["edit", tip.hex, "--title", "pirate"], ["retract", tip.hex]] {
            let error = await cli.refusal(command + ["--as", "boulangerie"])
            #expect(error?.exitCode == 77)
            #expect(error?.description == "Only the author of \(tip.shortHex) can edit or retract it.")
        }
        #expect(try cli.snapshot() == before)
    }
}

@Suite struct CLIFlowTests {
    @Test func postEditRetractThroughTheCLI() async throws {
        let cli = try await CLI.withBuilding()
        let node = try BuildingNode.open(NodeDirectory(path: cli.dataDir))
        try await cli.run(["post", "event", "--title", "Fête des voisins", "--start", "2d", "--place", "Cour", "--lang", "fr"])
        try await cli.run(["post", "promo", "--as", "boulangerie", "--title", "Galettes -10 %", "--scope", "building"])
        let items = try node.view().items
        #expect(items.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.tip, .event, .promo])
        let event = try #require(items.first { $0.kind == .event })
        #expect(event.content.event?.place == "Cour")
        #expect(event.content.event.map { $0.endsAt - $0.startsAt } == 2 * 3_600_000)
        let tip = try #require(items.first { $0.kind == .tip })
        try await cli.run(["edit", String(tip.id.hex.prefix(8)), "--as", "camille", "--body", "Bleu, près du local."])
        #expect(try node.view().items.first { $0.id == tip.id }?.content.body == "Bleu, près du local.")
        #expect(try node.view().items.first { $0.id == tip.id }?.content.title == "Vélo trouvé")
        try await cli.run(["retract", tip.id.hex, "--as", "camille"])
        #expect(try node.view().items.contains { $0.id == tip.id } == false)
        try await cli.run(["list", "--json"])
        try await cli.run(["show", event.id.hex])
        try await cli.run(["status"])
    }

    @Test("post --from schedules a post for the screens; edit --expires takes it off early but never past its first expiry")
    func schedulingFromTheCLI() async throws {
        let cli = try await CLI.withBuilding()
        try await cli.run(["post", "notice", "--title", "Ramonage", "--from", "2d"])
        try await cli.run(["post", "tip", "--as", "camille", "--title", "Vélo trouvé"])
        let node = try BuildingNode.open(NodeDirectory(path: cli.dataDir))
        let now = node.now()
        let items = try node.listed(kind: nil, limit: nil).items
        let notice = try #require(items.first { $0.content.title == "Ramonage" })
        let from = try #require(notice.content.showsFrom)
        #expect(from > now + 2 * Limits.millisPerDay - 60_000 && from <= now + 2 * Limits.millisPerDay)
        // Seven days on the screens from then, and in building scope (a notice).
        #expect(notice.expiresAt == from + BuildingNode.defaultPostLifetime)
        #expect(notice.scope == .building)
        let tip = try #require(items.first { $0.content.title == "Vélo trouvé" })
        #expect(tip.scope == .neighbourhood)
        let before = try cli.snapshot()
        let error = await cli.refusal(["edit", tip.id.shortHex, "--as", "camille", "--expires", "30d"])
        #expect(error?.exitCode == 64)
        #expect(error?.description.contains("an edit can take it off the screens earlier, not keep it longer") == true)
        #expect(try cli.snapshot() == before)
        try await cli.run(["edit", tip.id.shortHex, "--as", "camille", "--expires", "2h"])
        let edited = try #require(try node.listed(kind: .tip, limit: nil).items.first { $0.id == tip.id })
        #expect(edited.content.title == "Vélo trouvé")
        #expect(edited.expiresAt <= node.now() + 2 * 3_600_000 && edited.expiresAt > now)
        #expect(try node.store.view(now: node.now() + 2 * 3_600_000 + 1).items.allSatisfy { $0.id != tip.id })
    }

    @Test("profile set: a new name is signed again for the neighbours; the panel stays in config.json; a bad value changes nothing")
    func profileSet() async throws {
        let cli = try await CLI.withBuilding()
        try await cli.run(["profile", "set", "--caretaker", "Mme Martin · loge au RDC", "--emergency", "Pompiers=18", "--emergency", "SAMU = 15"])
        var node = try BuildingNode.open(NodeDirectory(path: cli.dataDir))
        #expect(node.configuration.feed.panel == KioskPanel(caretaker: "Mme Martin · loge au RDC",
                                                             emergency: [.init(label: "Pompiers", number: "18"), .init(label: "SAMU", number: "15")]))
        try await cli.run(["profile", "set", "--name", "Les Lilas, bâtiment A"])
        node = try BuildingNode.open(NodeDirectory(path: cli.dataDir))
        let profile = try #require(try node.store.latestProfile(of: node.building, now: node.now()))
        guard case .profile(let signed) = profile.content.payload else { Issue.record("not a profile"); return }
        #expect(signed.name == "Les Lilas, bâtiment A" && node.configuration.buildingName == "Les Lilas, bâtiment A")
        let before = try cli.snapshot()
        let config = try Data(contentsOf: node.directory.configurationFile)
        #expect(await cli.refusal(["profile", "set", "--name", "  "])?.exitCode == 78)
        #expect(await cli.refusal(["profile", "set", "--caretaker", String(repeating: "x", count: 201)])?.exitCode == 78)
        #expect(try cli.snapshot() == before)
        #expect(try Data(contentsOf: node.directory.configurationFile) == config)
        try await cli.run(["profile", "set", "--no-emergency", "--caretaker", ""])
        #expect(try BuildingNode.open(NodeDirectory(path: cli.dataDir)).configuration.feed.panel == nil)
    }

    @Test("a store of a newer palier, an empty store, a missing store: every command refuses in one sentence (exit 74) and changes nothing")
    func unsafeStores() async throws {
        for damage in ["newer", "empty", "missing"] {
            let cli = try await CLI.withBuilding()
            let store = URL(fileURLWithPath: cli.dataDir).appendingPathComponent("palier.sqlite").path
            switch damage {
            case "newer":
                let queue = try DatabaseQueue(path: store)
                try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: from the future')") }
                try queue.close()
            case "empty":
                try Data().write(to: URL(fileURLWithPath: store))
                for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
            default:
                try FileManager.default.removeItem(atPath: store)
                for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
            }
            let before = (try? Data(contentsOf: URL(fileURLWithPath: store))) ?? Data()
            for command in [["post", "tip", "--as", "camille", "--title", "x"], ["list"], ["status"]] {
                let error = await cli.refusal(command)
                #expect(error?.exitCode == 74, "\(damage): \(command)")
                let sentence = error?.description ?? ""
                switch damage {
                case "newer": #expect(sentence.contains("was written by a newer palier (schema v99"), "\(sentence)")
                case "empty": #expect(sentence.contains("is not a palier store (it is empty, 0 bytes)"), "\(sentence)")
                default: #expect(sentence.contains("is missing, though this node is initialised"), "\(sentence)")
                }
            }
            #expect(((try? Data(contentsOf: URL(fileURLWithPath: store))) ?? Data()) == before, "\(damage): the store was changed")
            #expect(FileManager.default.fileExists(atPath: store) == (damage != "missing"))
        }
    }

    /// Each configuration mistake the issue names, edited into config.json by hand.
    @Test(arguments: [
        ("\"kioskPort\" : 7480", "\"kioskport\" : 7480", "unknown key \"kioskport\" in feed (did you mean \"kioskPort\"?)"),
        ("\"kioskPort\" : 7480", "\"kioskPort\" : 99999", "feed.kioskPort is 99999, it must lie between 0 and 65535"),
        ("\"promoShare\" : 0.2", "\"promoShare\" : 5", "feed.promoShare is 5, it must lie between 0 and 0.95"),
        ("\"promoShare\" : 0.2", "\"promoShare\" : \"beaucoup\"", "feed.promoShare must be a number"),
        ("\"version\" : 1", "\"version\" : 99", "its version is 99; this palier reads version 1"),
        ("\"promoShare\" : 0.2,", "\"promoShare\" : 0.2,,", "is not valid JSON"),
        ("\"staticPeers\" : [", "\"staticPeers\" : [\"pas une adresse\"", "sync.staticPeers holds \"pas une adresse\", which is not host:port"),
        ("\"language\" : \"fr\"", "\"language\" : \"de\"", "feed.language is \"de\"; the screen speaks \"en\" or \"fr\""),
        ("\"moderation\" : \"new-members\"", "\"moderation\" : \"sometimes\"", "residents.moderation is \"sometimes\""),
    ] as [(String, String, String)])
    func configurationMistakes(original: String, mistake: String, message: String) async throws {
        let cli = try await CLI.withBuilding()
        let file = URL(fileURLWithPath: cli.dataDir).appendingPathComponent("config.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        try #require(text.contains(original), "config.json has no \(original)")
        let broken = text.replacingOccurrences(of: original, with: mistake)
        try broken.write(to: file, atomically: true, encoding: .utf8)
        let line = broken.components(separatedBy: "\n").firstIndex { $0.contains(mistake.components(separatedBy: "\n")[0]) }.map { $0 + 1 }
        for command in [["config", "check"], ["status"], ["post", "tip", "--as", "camille", "--title", "x"]] {
            let error = await cli.refusal(command)
            #expect(error?.exitCode == 78, "\(command)")
            let sentence = error?.description ?? ""
            #expect(sentence.contains(message), "\(sentence)")
            if let line { #expect(sentence.contains("(line \(line))"), "\(sentence)") }
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == broken, "config.json was rewritten")
        // Put back, the node works as before.
        try text.write(to: file, atomically: true, encoding: .utf8)
        try await cli.run(["config", "check"])
    }

    @Test("an argument that is not UTF-8 is refused before anything is stored, never repaired into U+FFFD")
    func invalidUTF8Argument() async throws {
        let cli = try await CLI.withBuilding()
        let before = try cli.snapshot()
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("palier").path
        // Python passes the raw bytes (Foundation's Process only takes Swift strings).
        let result = try runProcess("/usr/bin/env", ["python3", "-c", """
            import subprocess, sys
            r = subprocess.run([sys.argv[1], "post", "tip", "--as", "camille", "--title", b"Caf\\xe9 ouvert", "--data-dir", sys.argv[2]],
                               capture_output=True)
            sys.stdout.write(r.stderr.decode("utf-8", "replace"))
            sys.exit(r.returncode)
            """, binary, cli.dataDir])
        #expect(result.status == 65, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("argument 6 is not valid UTF-8 text"), "\(result.stdout) \(result.stderr)")
        #expect(try cli.snapshot() == before)
    }
}
