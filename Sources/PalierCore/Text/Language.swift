import Synchronization

/// The language palier speaks to people on the command line: its messages, refusals and help.
/// French first: `palier` chooses it from the environment (``choose(environment:building:)``)
/// when it starts; a library user (and the tests) gets English unless it says otherwise.
public enum Language: String, Sendable, CaseIterable {
    case fr, en

    private static let chosen = Mutex(Language.en)

    /// The language of this process's messages.
    public static var current: Language {
        get { chosen.withLock { $0 } }
        set { chosen.withLock { $0 = newValue } }
    }

    /// `PALIER_LANG` (fr or en), else the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that names a
    /// language (`fr_FR.UTF-8` → French, `en_GB.UTF-8` → English, any other language →
    /// English), else — the locale unset, `C` or `POSIX`, as on many servers — the building's
    /// screen language, else French.
    public static func choose(environment: [String: String], building: Language?) -> Language {
        if let forced = environment["PALIER_LANG"].flatMap({ Language(rawValue: $0.lowercased()) }) { return forced }
        for variable in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[variable], !value.isEmpty else { continue }
            let language = value.prefix { $0 != "_" && $0 != "." && $0 != "@" }.lowercased()
            if language == "c" || language == "posix" { break }
            return language == "fr" ? .fr : .en
        }
        return building ?? .fr
    }
}

/// The sentence in the current language: both are written where it is used, so that a
/// translation is never missing or out of step with what it says (`\(…)` in both).
@inline(__always)
public func L(_ english: @autoclosure () -> String, _ french: @autoclosure () -> String) -> String {
    Language.current == .fr ? french() : english()
}
