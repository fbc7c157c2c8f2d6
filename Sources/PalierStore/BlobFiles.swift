import Foundation
import PalierCore
import Synchronization

/// Where a node keeps the bytes of images: one file per blob, named by its hash and type
/// (`blobs/<hash>.jpg`), readable by the screens' group so that a signage player can open the
/// path the feed gives it; and one file per transfer under way (`blobs/partial/<hash>`), kept
/// across restarts so that a cut transfer resumes where it stopped. An in-memory store keeps
/// them in memory. Which blobs are held is the store's `blob` table; the files follow it.
public final class BlobFiles: Sendable {
    /// The directory, or nil in memory.
    public let directory: String?
    private let memory = Mutex<(complete: [String: [UInt8]], partial: [BlobID: [UInt8]])>(([:], [:]))

    public init(directory: String?) {
        self.directory = directory
    }

    static func name(_ id: BlobID, _ type: ImageType) -> String { "\(id.hex).\(type.fileExtension)" }

    /// The file of a held blob, for screens (nil in memory).
    public func path(of id: BlobID, type: ImageType) -> String? {
        directory.map { "\($0)/\(Self.name(id, type))" }
    }

    private func partialPath(_ id: BlobID) -> String? { directory.map { "\($0)/partial/\(id.hex)" } }

    private func ensureDirectories() throws(StoreError) {
        guard let directory else { return }
        for path in [directory, directory + "/partial"] where !FileManager.default.fileExists(atPath: path) {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw StoreError.blobFile(path: path, why: error.localizedDescription)
            }
        }
    }

    /// Writes a whole blob (already checked) under its name: to a temporary file, then renamed,
    /// so a reader never sees half an image.
    public func write(_ id: BlobID, type: ImageType, bytes: [UInt8]) throws(StoreError) {
        guard let path = path(of: id, type: type) else {
            memory.withLock { $0.complete[Self.name(id, type)] = bytes }
            return
        }
        try ensureDirectories()
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o640]) else {
            throw StoreError.blobFile(path: temporary, why: String(cString: strerror(errno)))
        }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw StoreError.blobFile(path: path, why: why)
        }
    }

    /// Bytes `offset ..< offset + length` of a held blob (fewer at its end).
    public func read(_ id: BlobID, type: ImageType, offset: Int, length: Int) throws(StoreError) -> [UInt8] {
        guard let path = path(of: id, type: type) else {
            guard let bytes = memory.withLock({ $0.complete[Self.name(id, type)] }) else { throw StoreError.blobFile(path: Self.name(id, type), why: "missing") }
            return Array(bytes.dropFirst(offset).prefix(length))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.blobFile(path: path, why: "missing") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            return Array(try handle.read(upToCount: length) ?? Data())
        } catch {
            throw StoreError.blobFile(path: path, why: error.localizedDescription)
        }
    }

    public func delete(_ id: BlobID, type: ImageType) {
        guard let path = path(of: id, type: type) else {
            _ = memory.withLock { $0.complete.removeValue(forKey: Self.name(id, type)) }
            return
        }
        unlink(path)
    }

    // MARK: Transfers under way

    /// How many bytes of `id` a cut transfer left.
    public func partialLength(_ id: BlobID) -> Int {
        guard let path = partialPath(id) else { return memory.withLock { $0.partial[id]?.count ?? 0 } }
        var info = stat()
        guard stat(path, &info) == 0 else {
            // None yet; or one that cannot be looked at, which is started again rather than
            // appended to blindly.
            if errno != ENOENT { unlink(path) }
            return 0
        }
        return Int(info.st_size)
    }

    /// Appends the next bytes of a transfer (the caller checked they come at its end).
    public func appendPartial(_ id: BlobID, _ bytes: [UInt8]) throws(StoreError) {
        guard let path = partialPath(id) else {
            memory.withLock { $0.partial[id, default: []] += bytes }
            return
        }
        try ensureDirectories()
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.blobFile(path: path, why: String(cString: strerror(errno)))
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw StoreError.blobFile(path: path, why: String(cString: strerror(errno))) }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(bytes))
            // A close that fails may have lost the bytes: said, not ignored.
            try handle.close()
        } catch {
            try? handle.close()
            throw StoreError.blobFile(path: path, why: error.localizedDescription)
        }
    }

    /// The bytes a transfer gathered.
    public func partialBytes(_ id: BlobID) throws(StoreError) -> [UInt8] {
        guard let path = partialPath(id) else { return memory.withLock { $0.partial[id] ?? [] } }
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.blobFile(path: path, why: "missing") }
        return Array(data)
    }

    public func deletePartial(_ id: BlobID) {
        guard let path = partialPath(id) else {
            _ = memory.withLock { $0.partial.removeValue(forKey: id) }
            return
        }
        unlink(path)
    }

    /// The blobs and transfers present as files (or in memory), for sweeping what the table
    /// no longer names.
    public func present() -> (complete: [(BlobID, ImageType)], partial: [BlobID]) {
        guard let directory else {
            return memory.withLock { state in
                (state.complete.keys.compactMap(Self.parse), Array(state.partial.keys))
            }
        }
        let complete = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap(Self.parse)
        let partial = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/partial")) ?? []).compactMap { BlobID(hex: $0) }
        return (complete, partial)
    }

    static func parse(_ name: String) -> (BlobID, ImageType)? {
        let parts = name.split(separator: ".")
        guard parts.count == 2, let id = BlobID(hex: parts[0]),
              let type = ImageType.allCases.first(where: { $0.fileExtension == parts[1] }) else { return nil }
        return (id, type)
    }
}
