import Foundation
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierStore
import PalierTestSupport
import Testing

/// A backup brings the building back on a new box: same keys, same state; a wrong passphrase,
/// a cut or altered file, or a directory that holds a node restore nothing.
struct BackupTests {
    static let passphrase = "chat perché sous la lune"

    /// A node with posts, a network key, an identity the admin keeps and a panel.
    func building() throws -> BuildingNode {
        var configuration = NodeConfiguration(buildingName: "Résidence des Lilas", address: "3 rue des Lilas, Lyon")
        configuration.feed.panel = .init(caretaker: "Mme Martin")
        let node = try BuildingNode.initialise(NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path),
                                               configuration: configuration)
        // init made its network key (network.key) already.
        #expect(try node.networkKey() != nil)
        let camille = try node.createIdentity(named: "camille")
        try node.grant(.resident, to: camille.publicKey, displayName: "Camille")
        for n in 0..<50 { try node.post(.tip, PostContent(title: "Astuce \(n)", language: "fr"), as: camille) }
        return node
    }

    func backupFile() -> URL { makeTemporaryDirectory("palier-backup").appendingPathComponent("lilas.palier-backup") }

    @Test("backup then restore into a new directory gives the same state digest, keys and settings")
    func roundTrip() throws {
        let node = try building()
        let file = backupFile()
        let (files, _) = try node.backup(to: file, passphrase: Self.passphrase, strength: .interactive)
        #expect(files == 5)  // config, building key, network key, one identity, store
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)
        let elsewhere = NodeDirectory(path: makeTemporaryDirectory("palier-new-box").appendingPathComponent("node").path)
        let restored = try BuildingNode.restore(from: file, passphrase: Self.passphrase, into: elsewhere)
        let now = node.now()
        #expect(try restored.store.stateDigest(now: now) == node.store.stateDigest(now: now))
        #expect(restored.building == node.building && restored.buildingKey.seed == node.buildingKey.seed)
        #expect(try restored.networkKey()?.id == node.networkKey()?.id)
        #expect(try restored.identity(named: "camille").publicKey == node.identity(named: "camille").publicKey)
        #expect(restored.configuration == node.configuration)
        for file in ["building.key", "network.key", "palier.sqlite", "identities/camille.key"] {
            #expect(try FileManager.default.attributesOfItem(atPath: elsewhere.root.appendingPathComponent(file).path)[.posixPermissions] as? Int == 0o600)
        }
        // Never over an existing file, never into a node.
        #expect(throws: NodeError.self) { try node.backup(to: file, passphrase: Self.passphrase, strength: .interactive) }
        #expect(throws: NodeError.self) { try BuildingNode.restore(from: file, passphrase: Self.passphrase, into: elsewhere) }
        #expect(throws: NodeError.self) { try BuildingNode.restore(from: file, passphrase: Self.passphrase, into: node.directory) }
    }

    @Test("the onion key goes with the backup: the restored box answers at the same onion address")
    func onionKey() throws {
        let node = try building()
        let address = try node.onionKey().address
        let file = backupFile()
        let (files, _) = try node.backup(to: file, passphrase: Self.passphrase, strength: .interactive)
        #expect(files == 6)
        let elsewhere = NodeDirectory(path: makeTemporaryDirectory("palier-new-box").appendingPathComponent("node").path)
        let restored = try BuildingNode.restore(from: file, passphrase: Self.passphrase, into: elsewhere)
        #expect(try FileManager.default.attributesOfItem(atPath: restored.onionKeyFile.path)[.posixPermissions] as? Int == 0o600)
        #expect(try restored.onionKey().address == address)
    }

    @Test("a wrong passphrase, a cut copy, a changed byte or another file restore nothing, each with its sentence")
    func badBackups() throws {
        let node = try building()
        let file = backupFile()
        try node.backup(to: file, passphrase: Self.passphrase, strength: .interactive)
        let good = try Data(contentsOf: file)
        func attempt(_ bytes: Data, passphrase: String = Self.passphrase) -> (NodeError?, Bool) {
            let broken = file.deletingLastPathComponent().appendingPathComponent("broken-\(UUID().uuidString)")
            try? bytes.write(to: broken)
            let target = NodeDirectory(path: makeTemporaryDirectory("palier-new-box").appendingPathComponent("node").path)
            do {
                _ = try BuildingNode.restore(from: broken, passphrase: passphrase, into: target)
                return (nil, true)
            } catch {
                return (error, FileManager.default.fileExists(atPath: target.root.path))
            }
        }
        var flipped = good
        flipped[good.count / 2] ^= 0x01
        let cases: [(Data, String, String)] = [
            (good, "un autre mot de passe", "That passphrase does not open this backup; nothing was restored."),
            (good.prefix(good.count - 100), Self.passphrase, "That backup is cut short (an incomplete copy?); nothing was restored."),
            (flipped, Self.passphrase, "That backup is damaged (it was changed after it was made); nothing was restored."),
            (Data("{\"buildingName\": \"x\"}".utf8), Self.passphrase, "That file is not a palier backup; nothing was restored."),
        ]
        for (bytes, passphrase, sentence) in cases {
            let (error, written) = attempt(bytes, passphrase: passphrase)
            #expect(error?.description == sentence)
            #expect(!written, "\(sentence): something was written")
        }
    }

    @Test("the cipher: every chunk boundary, an empty plaintext, a hostile header asking for too much memory")
    func cipher() throws {
        for size in [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1] {
            let plain = [UInt8]((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let sealed = try BackupCipher.seal(plain, passphrase: "p", strength: .interactive)
            #expect(try BackupCipher.open(sealed, passphrase: "p") == plain)
        }
        var hostile = try BackupCipher.seal([1, 2, 3], passphrase: "p", strength: .interactive)
        // memlimit (8 bytes after magic and salt and opslimit) set to 2^62.
        let memAt = BackupCipher.magic.count + 16 + 8
        hostile.replaceSubrange(memAt..<memAt + 8, with: [0x40, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: BackupCipherError.damaged) { try BackupCipher.open(hostile, passphrase: "p") }
    }
}
