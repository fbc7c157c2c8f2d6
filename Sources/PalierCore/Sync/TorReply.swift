/// One reply of tor's control protocol (tor's control-spec §2.3): a status code and its lines,
/// each without its code and separator; a data block ("250+key=" … ".") is joined to its line
/// with newlines.
public struct TorReply: Hashable, Sendable {
    public var status: Int
    public var lines: [String]

    public init(status: Int, lines: [String]) {
        self.status = status
        self.lines = lines
    }

    /// 250: done.
    public var isOK: Bool { status == 250 }
    /// 6xx: an event tor sends by itself, not an answer to a command.
    public var isEvent: Bool { status >= 600 && status < 700 }

    /// The value of `key=value` on a line of the reply (`GETINFO`'s answers, `ADD_ONION`'s
    /// `ServiceID=`), unquoted; nil when no line has it.
    public func value(_ key: String) -> String? {
        for line in lines where line.hasPrefix(key + "=") {
            return TorReply.unquoted(String(line.dropFirst(key.count + 1)))
        }
        return nil
    }

    /// The value of `KEY=value` among the space-separated words of a line (`PROTOCOLINFO`'s
    /// `AUTH METHODS=… COOKIEFILE="…"`, the bootstrap phase's `PROGRESS=…`), unquoted.
    public static func field(_ key: String, in line: String) -> String? {
        var rest = Substring(line)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " }
            let word: Substring
            if let equals = rest.firstIndex(of: "="), !rest[..<equals].contains(" ") {
                var end = rest.index(after: equals)
                if end < rest.endIndex, rest[end] == "\"" {
                    // A quoted string: to the next unescaped quote.
                    end = rest.index(after: end)
                    var escaped = false
                    while end < rest.endIndex, escaped || rest[end] != "\"" {
                        escaped = !escaped && rest[end] == "\\"
                        end = rest.index(after: end)
                    }
                    if end < rest.endIndex { end = rest.index(after: end) }
                } else {
                    end = rest[end...].firstIndex(of: " ") ?? rest.endIndex
                }
                word = rest[..<end]
                if rest[..<equals] == key { return unquoted(String(rest[rest.index(after: equals)..<end])) }
            } else {
                word = rest.prefix { $0 != " " }
            }
            rest = rest.dropFirst(word.count)
        }
        return nil
    }

    /// A QuotedString's content (backslash escapes undone); other text as it is.
    public static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var out = ""
        var escaped = false
        for c in text.dropFirst().dropLast() {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// Why lines from tor's control port are not a reply.
public struct TorReplyError: Error, Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public init(text: String) { self.text = text }
    public var description: String { "tor's control port sent \(text)" }
}

/// Turns the control port's lines into replies, as a pure state machine (fed one line at a
/// time, without its CRLF). Bounded: a reply of more than ``maximumLines`` lines or a line
/// longer than ``maximumLineBytes`` is an error.
public struct TorReplyParser: Sendable {
    public static let maximumLines = 4096
    public static let maximumLineBytes = 65_536
    /// The most bytes one reply may hold.
    public static let maximumReplyBytes = 1 << 20

    private var status: Int?
    private var size = 0
    private var lines: [String] = []
    private var data: [String]?

    public init() {}

    /// Takes one line; returns the reply it completes, if it does.
    public mutating func feed(_ line: String) throws(TorReplyError) -> TorReply? {
        guard line.utf8.count <= Self.maximumLineBytes else { throw TorReplyError(text: "a line of \(line.utf8.count) bytes") }
        size += line.utf8.count + 1
        if var block = data {
            if line == "." {
                data = nil
                lines[lines.count - 1] += block.isEmpty ? "" : block.joined(separator: "\n")
                return nil
            }
            block.append(line.hasPrefix(".") ? String(line.dropFirst()) : line)
            data = block
            try checkSize()
            return nil
        }
        let bytes = Array(line.utf8)
        guard bytes.count >= 4, bytes[0..<3].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), code >= 100 else {
            throw TorReplyError(text: "a line that is not a reply: “\(line.prefix(60))”")
        }
        if let status, status != code { throw TorReplyError(text: "a reply mixing codes \(status) and \(code)") }
        status = code
        lines.append(String(decoding: bytes[4...], as: UTF8.self))
        try checkSize()
        switch bytes[3] {
        case UInt8(ascii: "-"):
            return nil
        case UInt8(ascii: "+"):
            data = []
            return nil
        case UInt8(ascii: " "):
            let reply = TorReply(status: code, lines: lines)
            status = nil
            lines = []
            size = 0
            return reply
        default:
            throw TorReplyError(text: "a reply line with separator “\(Character(UnicodeScalar(bytes[3])))”")
        }
    }

    private func checkSize() throws(TorReplyError) {
        guard size <= Self.maximumReplyBytes else { throw TorReplyError(text: "a reply of more than \(Self.maximumReplyBytes) bytes") }
        guard lines.count + (data?.count ?? 0) <= Self.maximumLines else { throw TorReplyError(text: "a reply of more than \(Self.maximumLines) lines") }
    }
}
