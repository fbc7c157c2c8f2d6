import Foundation
import PalierCore
import PalierCrypto
import PalierStore

/// A node's backup (docs/operations.md): everything a new box needs to carry on as this
/// building — config.json, the building key, the network key, the onion key, the identities the admin keeps,
/// and a consistent copy of the store — in one archive, encrypted under a passphrase
/// (``BackupCipher``).
///
/// Archive (inside the encryption): `palier-archive-1\n` ‖ count (u16) ‖ entries, each
/// name (u16 length, UTF-8) ‖ size (u64) ‖ bytes.
enum NodeArchive {
    static let magic = Array("palier-archive-1\n".utf8)
    /// The names an archive may hold: nothing else is ever written on restore.
    static let fixedNames: Set<String> = ["config.json", "building.key", "network.key", "onion.key", "palier.sqlite"]

    static func isAllowed(_ name: String) -> Bool {
        if fixedNames.contains(name) { return true }
        guard name.hasPrefix("identities/"), name.hasSuffix(".key") else { return false }
        let identity = name.dropFirst("identities/".count).dropLast(".key".count)
        return !identity.isEmpty && identity.count <= 64 && identity.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func encode(_ entries: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out = magic + [UInt8(entries.count >> 8), UInt8(entries.count & 0xff)]
        for (name, bytes) in entries {
            let utf8 = Array(name.utf8)
            out += [UInt8(utf8.count >> 8), UInt8(utf8.count & 0xff)] + utf8
            out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(bytes.count) >> (8 * UInt64($0))) } + bytes
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [(name: String, bytes: [UInt8])]? {
        guard bytes.count >= magic.count + 2, Array(bytes.prefix(magic.count)) == magic else { return nil }
        var at = magic.count
        func take(_ n: Int) -> ArraySlice<UInt8>? {
            guard n >= 0, bytes.count - at >= n else { return nil }
            defer { at += n }
            return bytes[at..<at + n]
        }
        guard let countBytes = take(2) else { return nil }
        let count = Int(countBytes.first!) << 8 | Int(countBytes.last!)
        var entries: [(name: String, bytes: [UInt8])] = []
        var seen = Set<String>()
        for _ in 0..<count {
            guard let lengthBytes = take(2), let nameBytes = take(Int(lengthBytes.first!) << 8 | Int(lengthBytes.last!)),
                  let name = String(validating: nameBytes, as: UTF8.self), isAllowed(name), seen.insert(name).inserted,
                  let sizeBytes = take(8) else { return nil }
            let size = sizeBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard size <= UInt64(Int.max), let content = take(Int(size)) else { return nil }
            entries.append((name, Array(content)))
        }
        guard at == bytes.count, seen.isSuperset(of: ["config.json", "building.key", "palier.sqlite"]) else { return nil }
        return entries
    }
}

extension BuildingNode {
    /// Writes an encrypted backup of this node to `url` (mode 0600; never over an existing
    /// file) while it may be running. Returns the number of files and the backup's size.
    @discardableResult
    public func backup(to url: URL, passphrase: String, strength: BackupCipher.Strength = .moderate) throws(NodeError) -> (files: Int, bytes: Int) {
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw NodeError(.backup("\(url.path) already exists; palier never writes a backup over a file. Choose another name."))
        }
        let (files, sealed) = try sealedBackup(passphrase: passphrase, strength: strength)
        guard FileManager.default.createFile(atPath: url.path, contents: Data(sealed), attributes: [.posixPermissions: 0o600]) else {
            throw NodeError(.io("the backup could not be written to \(url.path)"))
        }
        return (files, sealed.count)
    }

    /// The backup's bytes, for a caller that writes them itself (`palier backup` under sudo
    /// opens its file before it gives up root).
    public func sealedBackup(passphrase: String, strength: BackupCipher.Strength = .moderate) throws(NodeError) -> (files: Int, sealed: [UInt8]) {
        // The store's copy is made in the data directory, private like the store itself: should
        // it outlive a failed removal, it is no more exposed than the store it copies.
        let scratch = directory.root.appendingPathComponent("backup-\(UUID().uuidString).sqlite.tmp")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do { try store.snapshot(to: scratch.path) } catch { throw .wrap(error) }
        var entries: [(name: String, bytes: [UInt8])] = []
        func add(_ name: String, _ file: URL) throws(NodeError) {
            do { entries.append((name, [UInt8](try Data(contentsOf: file)))) } catch {
                throw NodeError(.io("\(file.path) could not be read for the backup: \(error.localizedDescription)"))
            }
        }
        try add("config.json", directory.configurationFile)
        try add("building.key", directory.resolve(configuration.buildingKeyFile))
        if FileManager.default.fileExists(atPath: networkKeyFile.path) { try add("network.key", networkKeyFile) }
        // The onion address goes with the building: its neighbours keep dialling it.
        if FileManager.default.fileExists(atPath: onionKeyFile.path) { try add("onion.key", onionKeyFile) }
        // A directory that cannot be read would leave identities out of the backup: an error.
        var identities: [String] = []
        if FileManager.default.fileExists(atPath: directory.identitiesDirectory.path) {
            do { identities = try FileManager.default.contentsOfDirectory(atPath: directory.identitiesDirectory.path) } catch {
                throw NodeError(.io("\(directory.identitiesDirectory.path) could not be read for the backup: \(error.localizedDescription)"))
            }
        }
        for name in identities.sorted() where NodeArchive.isAllowed("identities/\(name)") {
            try add("identities/\(name)", directory.identitiesDirectory.appendingPathComponent(name))
        }
        try add("palier.sqlite", scratch)
        let sealed: [UInt8]
        do { sealed = try BackupCipher.seal(NodeArchive.encode(entries), passphrase: passphrase, strength: strength) } catch {
            throw NodeError(.backupUnreadable(error))
        }
        return (entries.count, sealed)
    }

    /// Restores the backup at `url` into `directory`, which must hold no node. Everything is
    /// decrypted and checked before anything is written; the files then go in with the modes
    /// a node's own have (keys and store 0600), and the restored node is opened to check it.
    public static func restore(from url: URL, passphrase: String, into directory: NodeDirectory) throws(NodeError) -> BuildingNode {
        try restore(sealed: readBackup(url), passphrase: passphrase, into: directory)
    }

    /// The backup file's bytes.
    public static func readBackup(_ url: URL) throws(NodeError) -> [UInt8] {
        do { return [UInt8](try Data(contentsOf: url)) } catch {
            throw NodeError(.io("the backup \(url.path) could not be read: \(error.localizedDescription)"))
        }
    }

    /// Restores a backup already read (``readBackup(_:)``).
    public static func restore(sealed: [UInt8], passphrase: String, into directory: NodeDirectory) throws(NodeError) -> BuildingNode {
        guard !directory.isInitialised else {
            throw NodeError(.backup("a node is already initialised in \(directory.root.path); palier never restores over a node. Restore into an empty directory (--data-dir)."))
        }
        let archive: [UInt8]
        do { archive = try BackupCipher.open(sealed, passphrase: passphrase) } catch { throw NodeError(.backupUnreadable(error)) }
        guard let entries = NodeArchive.decode(archive) else { throw NodeError(.backupUnreadable(.damaged)) }
        guard let configText = entries.first(where: { $0.name == "config.json" })?.bytes else { throw NodeError(.backupUnreadable(.damaged)) }
        let configuration = try NodeConfiguration.parse(Data(configText), path: "config.json in the backup")
        // Where each file goes: the store and the building key where the configuration says.
        func target(_ name: String) -> URL {
            switch name {
            case "palier.sqlite": directory.resolve(configuration.storeFile)
            case "building.key": directory.resolve(configuration.buildingKeyFile)
            case "config.json": directory.configurationFile
            default: directory.root.appendingPathComponent(name)
            }
        }
        for (name, _) in entries where FileManager.default.fileExists(atPath: target(name).path) {
            throw NodeError(.backup("\(target(name).path) already exists; nothing was restored."))
        }
        do {
            try directory.createDirectories()
            for (name, bytes) in entries.filter({ $0.name != "config.json" }) + entries.filter({ $0.name == "config.json" }) {
                // config.json last: the directory counts as a node only once everything is there.
                let file = target(name)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                    throw NodeError(.io("\(file.path) could not be written"))
                }
            }
        } catch let error as NodeError {
            throw error
        } catch {
            throw NodeError(.io("the backup could not be written into \(directory.root.path): \(error.localizedDescription)"))
        }
        return try BuildingNode.open(directory)
    }
}
