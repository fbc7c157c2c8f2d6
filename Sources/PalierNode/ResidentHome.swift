import Foundation
import PalierCore
import PalierImaging
import PalierCrypto
import PalierSync

/// A resident's own machine: their key and their building, kept under their own configuration
/// directory (`$XDG_CONFIG_HOME/palier`, else `~/.config/palier`), never in a node's data
/// directory. Layout: `key` (0600), `building.json`, `clock` (the last timestamp signed),
/// `outbox/<id>` (envelopes not yet delivered), `sent/<id>` (delivered: for edit and retract).
public struct ResidentHome: Sendable {
    public let root: URL

    public init(path: String) {
        root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    /// `$XDG_CONFIG_HOME/palier`, else `$HOME/.config/palier`.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) -> ResidentHome {
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
            return ResidentHome(path: config + "/palier")
        }
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return ResidentHome(path: home + "/.config/palier")
    }

    public var keyFile: URL { root.appendingPathComponent("key") }
    var membershipFile: URL { root.appendingPathComponent("building.json") }
    var clockFile: URL { root.appendingPathComponent("clock") }
    var outbox: URL { root.appendingPathComponent("outbox", isDirectory: true) }
    var sent: URL { root.appendingPathComponent("sent", isDirectory: true) }

    /// The resident's key, nil when none was made yet.
    public func key() throws(NodeError) -> SigningKey? {
        guard FileManager.default.fileExists(atPath: keyFile.path) else { return nil }
        do { return try KeyFile.load(keyFile.path) } catch { throw .wrap(error) }
    }

    /// Makes the resident's key (0600); never replaces one.
    public func createKey() throws(NodeError) -> SigningKey {
        guard FileManager.default.fileExists(atPath: keyFile.path) == false else { throw NodeError(.residentKeyExists(keyFile.path)) }
        try createDirectories()
        let key = SigningKey.generate()
        do { try KeyFile.create(keyFile.path, key: key) } catch { throw .wrap(error) }
        return key
    }

    /// The building this machine joined, nil before `palier join`.
    public func membership() throws(NodeError) -> ResidentMembership? {
        guard let data = FileManager.default.contents(atPath: membershipFile.path) else { return nil }
        do { return try JSONDecoder().decode(ResidentMembership.self, from: data) } catch {
            throw NodeError(.io("\(membershipFile.path) could not be read (\(error.localizedDescription)); join again with `palier join <code>`."))
        }
    }

    func save(_ membership: ResidentMembership) throws(NodeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try encoder.encode(membership).write(to: membershipFile, options: .atomic) } catch {
            throw NodeError(.io("\(membershipFile.path) could not be written: \(error.localizedDescription)."))
        }
    }

    /// A timestamp after every one this machine signed (a hybrid clock kept in `clock`).
    func nextTimestamp(wallMillis: UInt64) throws(NodeError) -> HybridTimestamp {
        var last: UInt64 = 0
        if FileManager.default.fileExists(atPath: clockFile.path) {
            guard let data = FileManager.default.contents(atPath: clockFile.path),
                  let value = UInt64(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw NodeError(.io("\(clockFile.path) could not be read; remove it and try again (the next post takes the time of day)."))
            }
            last = value
        }
        var clock = HybridLogicalClock(last: HybridTimestamp(rawValue: last))
        let next = clock.tick(wallMillis: wallMillis)
        do { try String(next.rawValue).write(to: clockFile, atomically: true, encoding: .utf8) } catch {
            throw NodeError(.io("\(clockFile.path) could not be written: \(error.localizedDescription)."))
        }
        return next
    }

    func createDirectories() throws(NodeError) {
        for dir in [root, outbox, sent] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
            } catch {
                throw NodeError(.io("The directory \(dir.path) could not be created: \(error.localizedDescription)."))
            }
        }
    }

    // MARK: Outbox

    /// Keeps `envelope` until the node has it; the id is the file name, so it is kept once.
    func enqueue(_ envelope: Envelope) throws(NodeError) {
        try createDirectories()
        do { try Data(envelope.bytes).write(to: outbox.appendingPathComponent(envelope.id.hex), options: .atomic) } catch {
            throw NodeError(.io("The post could not be saved in \(outbox.path): \(error.localizedDescription)."))
        }
    }

    /// Envelopes waiting for the building's node, in the order they were signed.
    public func waitingEnvelopes() throws(NodeError) -> [Envelope] { try waiting() }

    /// Envelopes waiting, in the order they were signed (a retract after its post). No outbox
    /// yet is an empty one; one that cannot be listed is an error, never "nothing waits".
    func waiting() throws(NodeError) -> [Envelope] {
        guard FileManager.default.fileExists(atPath: outbox.path) else { return [] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: outbox.path) } catch {
            throw NodeError(.io("The outbox \(outbox.path) could not be read: \(error.localizedDescription)."))
        }
        return names.compactMap { name in
            FileManager.default.contents(atPath: outbox.appendingPathComponent(name).path).flatMap { Self.envelope([UInt8]($0)) }
        }.sorted { $0.timestamp < $1.timestamp }
    }

    static func envelope(_ bytes: [UInt8]) -> Envelope? {
        guard let unverified = try? EnvelopeValidator.sodium.decode(bytes) else { return nil }
        return try? EnvelopeValidator.sodium.verify(unverified)
    }

    /// The node has `envelope`: it moves from the outbox to `sent`.
    func delivered(_ envelope: Envelope) throws(NodeError) {
        let name = envelope.id.hex
        do {
            try? FileManager.default.removeItem(at: sent.appendingPathComponent(name))
            try FileManager.default.moveItem(at: outbox.appendingPathComponent(name), to: sent.appendingPathComponent(name))
        } catch {
            throw NodeError(.io("\(outbox.path) could not be updated: \(error.localizedDescription)."))
        }
    }

    /// Where images wait with the posts that name them (`outbox/images/<hash>`).
    var outboxImages: URL { outbox.appendingPathComponent("images", isDirectory: true) }

    /// Makes an image file ready to post (as the node does: shrunk, upright, no metadata) and
    /// keeps it in the outbox until the post naming it is delivered.
    public func attachImage(file path: String, alt: String) throws(NodeError) -> ImageReference {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .imageRefused(path, L("it cannot be read", "il est illisible"))
        }
        let prepared: PreparedImage
        do throws(ImageError) { prepared = try ImageProcessor.prepare(Array(data)) } catch { throw .imageRefused(path, error.description) }
        let id = BlobID(bytes: SodiumCrypto().blake2b256(prepared.bytes))!
        try createDirectories()
        do {
            try FileManager.default.createDirectory(at: outboxImages, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data(prepared.bytes).write(to: outboxImages.appendingPathComponent(id.hex), options: .atomic)
        } catch {
            throw NodeError(.io("The image could not be saved in \(outboxImages.path): \(error.localizedDescription)."))
        }
        return ImageReference(blob: id, byteCount: UInt32(prepared.bytes.count), type: prepared.type,
                              width: UInt16(prepared.width), height: UInt16(prepared.height), alt: alt)
    }

    /// The images of `envelope` the outbox holds, to send before it.
    func outboxImages(of envelope: Envelope) -> [(BlobID, [UInt8])] {
        (envelope.content.postContent?.images ?? []).compactMap { image in
            FileManager.default.contents(atPath: outboxImages.appendingPathComponent(image.blob.hex).path).map { (image.blob, Array($0)) }
        }
    }

    /// Deletes the outbox's images that no waiting envelope names any more.
    func dropDeliveredImages() throws(NodeError) {
        guard FileManager.default.fileExists(atPath: outboxImages.path) else { return }
        let named = Set(try waiting().flatMap { $0.content.postContent?.images.map(\.blob.hex) ?? [] })
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: outboxImages.path) } catch {
            throw NodeError(.io("The outbox \(outboxImages.path) could not be read: \(error.localizedDescription)."))
        }
        for name in names where !named.contains(name) {
            do { try FileManager.default.removeItem(at: outboxImages.appendingPathComponent(name)) } catch {
                throw NodeError(.io("\(outboxImages.path) could not be updated: \(error.localizedDescription)."))
            }
        }
    }

    /// The node refused `envelope` for good: it leaves the outbox.
    func discard(_ envelope: Envelope) throws(NodeError) {
        do { try FileManager.default.removeItem(at: outbox.appendingPathComponent(envelope.id.hex)) } catch {
            throw NodeError(.io("\(outbox.path) could not be updated: \(error.localizedDescription)."))
        }
    }

    /// The content a post of this resident's shows: the latest of the post and the edits of it
    /// this machine signed.
    public func latestContent(of post: Envelope) -> PostContent? {
        var shown = post
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: sent.path)) ?? []) + ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []) {
            let data = FileManager.default.contents(atPath: sent.appendingPathComponent(name).path)
                ?? FileManager.default.contents(atPath: outbox.appendingPathComponent(name).path)
            guard let data, let edit = Self.envelope([UInt8](data)), edit.kind == .edit, edit.target == post.id else { continue }
            if Envelope.precedes(shown, edit) { shown = edit }
        }
        return shown.content.postContent
    }

    /// One of this resident's posts sent earlier, by id prefix.
    public func sentEnvelope(_ prefix: String) throws(NodeError) -> Envelope {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: sent.path)) ?? [])
            + ((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? [])
        let matches = Set(names.filter { $0.hasPrefix(prefix.lowercased()) })
        guard let name = matches.first else { throw NodeError(.unknownEnvelope(prefix)) }
        guard matches.count == 1 else { throw NodeError(.ambiguousEnvelope(prefix, matches.count)) }
        let data = FileManager.default.contents(atPath: sent.appendingPathComponent(name).path)
            ?? FileManager.default.contents(atPath: outbox.appendingPathComponent(name).path)
        guard let data, let envelope = Self.envelope([UInt8](data)) else { throw NodeError(.unknownEnvelope(prefix)) }
        return envelope
    }
}

/// The building a resident's machine joined (`building.json`).
public struct ResidentMembership: Codable, Sendable, Hashable {
    /// The building's key (text form).
    public var building: String
    /// Where its node's residents' channel listens.
    public var addresses: [String]
    public var role: String
    public var displayName: String

    public var buildingKey: PublicKey? { try? PublicKey(text: building) }
}
