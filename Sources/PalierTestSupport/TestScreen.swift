import Foundation
import PalierFeed
import Synchronization

/// A screen for tests: connects to a feed socket and records every line it reads, with the time
/// it arrived, on a thread of its own (never on Swift's cooperative pool). A screen created with
/// `reads: false` connects and never reads, like a frozen display.
public final class TestScreen: Sendable {
    public struct Line: Sendable {
        public let text: String
        /// The `type` of the line, read on arrival.
        public let type: String
        /// The id the line is about: an upsert's item id, or a remove's id.
        public let subject: String?
        public let arrival: ContinuousClock.Instant
        /// Wall clock at arrival, Unix milliseconds.
        public let wallMillis: UInt64
        /// The line parsed as a JSON object.
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    private let fd: Int32
    private let received = Mutex<[Line]>([])
    private let ended = Mutex(false)

    /// nil when the connection is refused.
    public init?(path: String, reads: Bool = true) {
        guard let fd = connectUnixStream(path) else { return nil }
        self.fd = fd
        if reads {
            let thread = Thread { [self] in readLoop() }
            thread.start()
        }
    }

    deinit { close(fd) }

    private func readLoop() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { ended.withLock { $0 = true }; return }
            buffer.append(contentsOf: chunk[0..<n])
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                let subject = (object["item"] as? [String: Any])?["id"] as? String ?? object["id"] as? String
                let line = Line(
                    text: text, type: object["type"] as? String ?? "", subject: subject,
                    arrival: .now, wallMillis: UInt64(Date().timeIntervalSince1970 * 1000)
                )
                received.withLock { $0.append(line) }
            }
        }
    }

    /// Everything read so far.
    public var lines: [Line] { received.withLock { $0 } }
    /// Whether the node closed the connection.
    public var isClosed: Bool { ended.withLock { $0 } }

    /// Waits (bounded) for a line that matches; returns it, or nil after `timeout`.
    public func waitFor(timeout: Duration = .seconds(5), _ matches: (Line) -> Bool) async -> Line? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: matches) { return line }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Closes the connection.
    public func disconnect() { shutdown(fd, Int32(SHUT_RDWR)) }
}

extension TestScreen.Line {
    /// The item of an `upsert`, or nil.
    public var item: [String: Any]? { json["item"] as? [String: Any] }
    /// The items of a `snapshot`, or nil.
    public var items: [[String: Any]]? { json["items"] as? [[String: Any]] }
}
