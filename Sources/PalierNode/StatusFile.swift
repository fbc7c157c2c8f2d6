import Foundation
import Logging

/// The one-sentence files a running node keeps in its runtime directory for `palier status`:
/// discovery's, onion federation's, sync's store failures, another node under the same key.
enum StatusFile {
    /// Replaces the file with `sentence` (atomically); a failure is logged as `what` could not
    /// be written — the node runs on, `palier status` then shows the last sentence written.
    static func write(_ sentence: String, to file: URL, what: String, logger: Logger) {
        do {
            try Data((sentence + "\n").utf8).write(to: file, options: .atomic)
        } catch {
            logger.warning("could not write the \(what)", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
    }

    /// The sentence in the file, or nil when there is none.
    static func read(_ file: URL) -> String? {
        FileManager.default.contents(atPath: file.path).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
