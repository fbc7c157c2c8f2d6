import FuzzSupport
import PalierCore

/// tor's control port replies: any lines make replies or a `TorReplyError`, within the parser's
/// bounds; fields are looked up in any line.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    var parser = TorReplyParser()
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        _ = TorReply.field("METHODS", in: line)
        _ = TorReply.field("COOKIEFILE", in: line)
        do {
            guard let reply = try parser.feed(line) else { continue }
            invariant((100...999).contains(reply.status), "a reply with status \(reply.status)")
            invariant(!reply.lines.isEmpty && reply.lines.count <= TorReplyParser.maximumLines, "a reply of \(reply.lines.count) lines")
            _ = reply.value("ServiceID")
        } catch {
            return 0
        }
    }
    return 0
}
