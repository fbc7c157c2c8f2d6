import PalierCore

/// Why the store could not do what was asked.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable {
        case cannotOpen(path: String, reason: String)
        case database(String)
    }
    package let code: Code

    package init(_ code: Code) { self.code = code }

    /// The database file could not be opened or migrated.
    public static func cannotOpen(path: String, reason: String) -> Self { Self(.cannotOpen(path: path, reason: reason)) }
    /// SQLite reported an error.
    public static func database(_ message: String) -> Self { Self(.database(message)) }

    public var description: String {
        switch code {
        case .cannotOpen(let path, let reason): "The store \(path) could not be opened: \(reason)"
        case .database(let message): "The store reported an error: \(message)"
        }
    }
}
