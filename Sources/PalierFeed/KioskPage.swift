import Foundation
import Mustache

/// What the building's panel shows on a quiet or empty screen: who looks after the building
/// and the numbers to call. Local to this node's screen (config.json, `feed.panel`).
public struct KioskPanel: Codable, Hashable, Sendable {
    public struct Number: Codable, Hashable, Sendable {
        public var label: String
        public var number: String

        public init(label: String, number: String) {
            self.label = label
            self.number = number
        }
    }

    /// e.g. "Mme Martin · loge au rez-de-chaussée · 06 12 34 56 78".
    public var caretaker: String?
    public var emergency: [Number]

    public init(caretaker: String? = nil, emergency: [Number] = []) {
        self.caretaker = caretaker
        self.emergency = emergency
    }

    public var isEmpty: Bool { (caretaker ?? "").isEmpty && emergency.isEmpty }

    enum CodingKeys: String, CodingKey { case caretaker, emergency }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caretaker = try c.decodeIfPresent(String.self, forKey: .caretaker)
        emergency = try c.decodeIfPresent([Number].self, forKey: .emergency) ?? []
    }
}

/// The kiosk page: rendered from the templates and string tables of `Embedded/` (embedded in
/// the binary at build time by the EmbedFiles plugin) with swift-mustache. Self-contained
/// HTML, CSS and JavaScript: no request beyond this node's own `/feed.json` and `/events`.
public enum KioskPage {
    /// The languages a screen can speak: one string table each (`strings.<code>.json`).
    public static let languages: [String] = EmbeddedFiles.contents.keys
        .filter { $0.hasPrefix("strings.") && $0.hasSuffix(".json") }
        .map { String($0.dropFirst("strings.".count).dropLast(".json".count)) }
        .sorted()

    static let library: MustacheLibrary = {
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in EmbeddedFiles.contents where name.hasSuffix(".mustache") {
            // The files are part of the build: one that does not parse is a bug caught by the tests.
            templates[String(name.dropLast(".mustache".count))] = try! MustacheTemplate(string: text)
        }
        return MustacheLibrary(templates: templates)
    }()

    /// The string table of `language` as JSON text, and as objects for the templates.
    static func strings(_ language: String) -> (json: String, table: [String: Any])? {
        guard let text = EmbeddedFiles.contents["strings.\(language).json"],
              let table = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              // Re-encoded so that no "</" can end the script element it is put in.
              let json = try? JSONSerialization.data(withJSONObject: table, options: [.sortedKeys]) else { return nil }
        return (String(decoding: json, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/"), table)
    }

    /// The page in `language` (French when it has no string table) for `building`.
    public static func render(language: String, building: String, panel: KioskPanel?) -> String {
        let chosen = languages.contains(language) ? language : "fr"
        let (json, table) = strings(chosen) ?? ("{}", [:])
        var context: [String: Any] = ["language": chosen, "building": building, "strings": table, "stringsJSON": json]
        if let panel, !panel.isEmpty {
            context["panel"] = [
                "caretaker": panel.caretaker ?? "",
                "emergency": panel.emergency.map { ["label": $0.label, "number": $0.number] },
                "hasNumbers": !panel.emergency.isEmpty,
            ] as [String: Any]
        }
        return library.render(context, withTemplate: "kiosk") ?? ""
    }
}
