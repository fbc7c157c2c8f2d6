import Foundation
import PalierCore
import PalierFeed

/// config.json as text, for messages an admin can act on: which keys each section allows,
/// where (which line) a key is, and what a decoding error is about.
enum ConfigurationText {
    /// The keys each object of config.json allows, by its path ("" for the top; "[]" for the
    /// objects of a list).
    static let sections: [String: [String]] = [
        "": NodeConfiguration.CodingKeys.allCases.map(\.rawValue),
        "feed": FeedSettings.CodingKeys.allCases.map(\.rawValue),
        "feed.panel": ["caretaker", "emergency"],
        "feed.panel.emergency[]": ["label", "number"],
        "sync": SyncConfiguration.CodingKeys.allCases.map(\.rawValue),
        "residents": ResidentsConfiguration.CodingKeys.allCases.map(\.rawValue),
        "metrics": MetricsConfiguration.CodingKeys.allCases.map(\.rawValue),
        "blobs": BlobsConfiguration.CodingKeys.allCases.map(\.rawValue),
    ]

    /// The first key no section allows, depth first in the file's order as JSONSerialization
    /// gives it (sorted, for a stable message), and the keys allowed there.
    static func unknownKey(in object: [String: Any], at path: [String] = []) -> (keyPath: [String], allowed: [String])? {
        let section = path.joined(separator: ".")
        guard let allowed = sections[section] else { return nil }
        for key in object.keys.sorted() {
            guard allowed.contains(key) else { return (path + [key], allowed) }
            if let inner = object[key] as? [String: Any], let found = unknownKey(in: inner, at: path + [key]) { return found }
            if let list = object[key] as? [Any] {
                for case let inner as [String: Any] in list {
                    let listPath = path + [key + "[]"]
                    if let found = unknownKey(in: inner, at: listPath) {
                        return (found.keyPath.map { $0.hasSuffix("[]") ? String($0.dropLast(2)) : $0 }, found.allowed)
                    }
                }
            }
        }
        return nil
    }

    /// The line (from 1) where the last key of `keyPath` is written, looking for each key in
    /// turn after the previous one; nil when it is not found (a missing key).
    static func line(of keyPath: [String], in text: String) -> Int? {
        guard !keyPath.isEmpty else { return nil }
        var from = text.startIndex
        var found: Range<String.Index>?
        for key in keyPath {
            guard let range = text.range(of: "\"\(key)\"", range: from..<text.endIndex) else { return nil }
            found = range
            from = range.upperBound
        }
        return found.map { text[..<$0.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
    }

    /// The line of a JSON syntax error, from the character index Foundation reports (or that
    /// its message names).
    static func errorLine(_ error: any Error, in text: String) -> Int? {
        let info = (error as NSError).userInfo
        if let index = info["NSJSONSerializationErrorIndex"] as? Int {
            let utf8 = Array(text.utf8.prefix(max(index, 0)))
            return utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        }
        let message = "\(info["NSDebugDescription"] ?? "") \(error)"
        if let range = message.range(of: #"line \d+"#, options: .regularExpression) {
            return Int(message[range].dropFirst(5))
        }
        // "Invalid value around character 19." (a byte offset)
        if let range = message.range(of: #"character \d+"#, options: .regularExpression), let index = Int(message[range].dropFirst(10)) {
            return text.utf8.prefix(max(index, 0)).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        }
        if message.contains("end of file") { return text.reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
        return nil
    }

    /// What a decoding error is about, in words, and the key path it names.
    static func describe(_ error: DecodingError) -> (keyPath: [String], message: String) {
        func path(_ context: DecodingError.Context) -> [String] { context.codingPath.compactMap { $0.intValue == nil ? $0.stringValue : nil } }
        switch error {
        case .typeMismatch(let type, let context):
            let keyPath = path(context)
            return (keyPath, L("\(keyPath.joined(separator: ".")) must be \(kind(of: type))", "\(keyPath.joined(separator: ".")) doit être \(kind(of: type))"))
        case .valueNotFound(let type, let context):
            let keyPath = path(context)
            return (keyPath, L("\(keyPath.joined(separator: ".")) must be \(kind(of: type)), not null", "\(keyPath.joined(separator: ".")) doit être \(kind(of: type)), pas null"))
        case .keyNotFound(let key, let context):
            let keyPath = path(context) + [key.stringValue]
            return (path(context), L("\(keyPath.joined(separator: ".")) is missing", "\(keyPath.joined(separator: ".")) manque"))
        case .dataCorrupted(let context):
            return (path(context), context.debugDescription)
        @unknown default:
            return ([], "\(error)")
        }
    }

    static func kind(of type: Any.Type) -> String {
        switch type {
        case is Int.Type: L("a whole number", "un nombre entier")
        case is Double.Type: L("a number", "un nombre")
        case is Bool.Type: L("true or false", "true ou false")
        case is String.Type: L("text in quotes", "un texte entre guillemets")
        case is [String].Type: L("a list of texts in quotes, [\"…\"]", "une liste de textes entre guillemets, [\"…\"]")
        default: "a \(type)"
        }
    }
}
