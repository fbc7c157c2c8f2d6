import ArgumentParser
import Foundation
import PalierCore
import PalierFeed
import PalierNode

struct Feed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Show what the elevator screen shows, live, from the running node's feed socket.", "Montrer en direct ce qu'affiche l'écran de l'ascenseur, depuis la prise du flux du nœud."), discussion: L("Example: palier feed --json", "Exemple : palier feed --json")
    )

    @OptionGroup var options: NodeOptions
    @Flag(help: H("Print the feed's JSON lines as they come (docs/feed.md).", "Afficher les lignes JSON du flux à mesure qu'elles arrivent (docs/feed.md).")) var json = false

    func run() async throws {
        let node = try options.openNode()
        let path = node.feedSocketPath
        guard var reader = FeedSocketClient.connect(path) else {
            throw NodeError.feedUnavailable(path)
        }
        var items: [[String: Any]] = []
        func emit(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
        while let line = reader.nextLine() {
            if json {
                emit(line)
                continue
            }
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let type = event["type"] as? String else { continue }
            switch type {
            case "hello":
                let building = (event["building"] as? [String: Any])?["name"] as? String ?? ""
                emit(L("Screen of \(building)", "Écran de \(building)"))
            case "snapshot":
                items = event["items"] as? [[String: Any]] ?? []
                emit(L("— \(items.count) item\(items.count == 1 ? "" : "s") on the screen —", "— \(items.count) élément\(items.count == 1 ? "" : "s") à l'écran —"))
                for item in items { emit(Self.describe(item)) }
            case "upsert":
                if let item = event["item"] as? [String: Any] { emit("+ \(Self.describe(item))") }
            case "remove":
                emit("- \(String((event["id"] as? String ?? "").prefix(12))) (\(event["reason"] as? String ?? ""))")
            default:
                continue
            }
        }
        emit(L("The node closed the feed.", "Le nœud a fermé le flux."))
    }

    static func describe(_ item: [String: Any]) -> String {
        let author = item["author"] as? [String: Any] ?? [:]
        let flag = (item["preempts"] as? Bool ?? false) ? "!! " : ""
        let verified = (author["verified"] as? Bool ?? false) ? " ✓" : ""
        return "\(flag)[\(item["kind"] as? String ?? "")] \(item["title"] as? String ?? "") — \(author["name"] as? String ?? "")\(verified) (\(item["displaySeconds"] as? Int ?? 0) s)"
    }
}

/// Reads lines from a connected Unix-domain stream socket.
struct FeedSocketClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// The next line without its newline; nil at the end of the stream.
    mutating func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { close(fd); return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    static func connect(_ path: String) -> FeedSocketClient? {
        connectUnixStream(path).map(FeedSocketClient.init(fd:))
    }
}
