import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PalierCore
import PalierStore
import PalierSync

/// What a running node is in the middle of, in a small file of the data directory
/// (`crash-journal`, 0600) that outlives the process: whether the node is running, the highest
/// envelope row the screen has shown, and the building whose sync message is being handled.
///
/// A node that dies while handling a stranger's input (a trap, a kill) would otherwise meet the
/// same input again: the envelope is in its store and the screen reads it at every start, or
/// the peer sends the message again at the next session — a restart loop under systemd. At its
/// next start the node reads what the journal left and sets that input aside instead: envelopes
/// stored after the last row the screen showed go to the store's quarantine (kept, never shown,
/// relayed or fetched again, until an admin releases them), and the building whose message was
/// being handled is suspended for ``suspension``.
///
/// Each update is one `pwrite` to a fixed offset: a process crash cannot lose it (the kernel
/// holds the page); a power cut may lose the last ones, which errs towards setting aside.
public final class CrashJournal: MessageJournal, Sendable {
    /// How long a building whose message the node died handling is refused.
    public static let suspension: UInt64 = 3_600_000

    static let magic = Array("palierJ1".utf8)
    static let length = 64
    // Offsets: magic 0..<8, running 8, handling 9, shown row 16..<24, building 24..<56.
    private let descriptor: Int32
    public let path: String

    /// What the previous run left behind when it did not stop cleanly.
    public struct Leftover: Sendable, Hashable {
        /// The highest envelope row its screen had shown.
        public let shownRow: Int64
        /// The building whose message it was handling, if any.
        public let handlingMessageFrom: PublicKey?
    }

    /// What ``recover(_:now:)`` set aside.
    public struct Recovery: Sendable, Hashable {
        public let quarantined: [EnvelopeID]
        public let suspended: PublicKey?
    }

    /// Opens (creating) the journal; `leftover` is what an unclean stop left, nil after a clean one.
    public init(path: String) throws(NodeError) {
        self.path = path
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NodeError(.io("The crash journal \(path) could not be opened: \(String(cString: strerror(errno))).")) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// What the previous run left, read before ``started(shownRow:)`` overwrites it. A missing,
    /// short or foreign file means a clean slate.
    public func leftover() -> Leftover? {
        var buffer = [UInt8](repeating: 0, count: Self.length)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, Self.length, 0) }
        guard count == Self.length, Array(buffer[0..<8]) == Self.magic, buffer[8] == 1 else { return nil }
        let row = buffer[16..<24].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Leftover(
            shownRow: Int64(bitPattern: row),
            handlingMessageFrom: buffer[9] == 1 ? PublicKey(bytes: Array(buffer[24..<56])) : nil)
    }

    /// Sets aside what the previous run died on (see the type's documentation) and logs it.
    @discardableResult
    public func recover(_ node: BuildingNode, now: UInt64) throws(NodeError) -> Recovery? {
        guard let leftover = leftover() else { return nil }
        var suspended: PublicKey?
        do {
            if let building = leftover.handlingMessageFrom {
                try node.store.suspend(building, until: now &+ Self.suspension,
                                       reason: "the node stopped while handling a message from this building")
                suspended = building
            }
            let quarantined = try node.store.quarantine(
                afterRow: leftover.shownRow, reason: "the node stopped before its screen had shown this envelope", now: now)
            return Recovery(quarantined: quarantined, suspended: suspended)
        } catch {
            throw .wrap(error)
        }
    }

    /// The node runs; everything up to `shownRow` is taken as shown. Throws when the journal
    /// cannot be written (later updates overwrite these 64 bytes and need no more space).
    public func started(shownRow: Int64) throws(NodeError) {
        guard write(Self.magic + [1, 0] + [UInt8](repeating: 0, count: 6) + Self.bytes(shownRow) + [UInt8](repeating: 0, count: 40), at: 0) else {
            throw NodeError(.io("The crash journal \(path) could not be written: \(String(cString: strerror(errno)))."))
        }
    }

    /// The screen has shown everything up to `row`.
    public func shown(upToRow row: Int64) { write(Self.bytes(row), at: 16) }

    public func handling(messageFrom building: PublicKey) {
        write(building.bytes, at: 24)
        write([1], at: 9)
    }

    public func handled() { write([0], at: 9) }

    /// The node stopped cleanly: nothing to set aside at the next start.
    public func stopped() { write([0, 0], at: 8) }

    /// Overwrites bytes of the 64 that ``started(shownRow:)`` wrote: no allocation, so the
    /// updates after it cannot fail for want of space; their result is the start's.
    @discardableResult
    private func write(_ bytes: [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) } == bytes.count
    }

    private static func bytes(_ row: Int64) -> [UInt8] {
        let value = UInt64(bitPattern: row)
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }
}

extension BuildingNode {
    /// The crash journal of this data directory.
    public var crashJournalPath: String { directory.root.appendingPathComponent("crash-journal").path }

    /// What is set aside in quarantine, oldest first.
    public func quarantined() throws(NodeError) -> [QuarantinedEnvelope] {
        do { return try store.quarantined() } catch { throw .wrap(error) }
    }

    /// Buildings refused for now after the node died handling their message.
    public func suspensions() throws(NodeError) -> [(building: PublicKey, until: UInt64, reason: String)] {
        do { return try store.suspensions(now: now()) } catch { throw .wrap(error) }
    }

    /// Takes envelopes out of quarantine through the ordinary ingest path, and tells a running node.
    public func release(_ ids: [EnvelopeID]) throws(NodeError) -> IngestReport {
        let report: IngestReport
        do { report = try store.release(ids, now: now()) } catch { throw .wrap(error) }
        RunningNodeSignal.storeChanged(controlSocket: controlSocketPath)
        return report
    }
}
