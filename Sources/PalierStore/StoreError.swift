import PalierCore

/// Why the store could not do what was asked.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable {
        case cannotOpen(path: String, reason: String)
        case database(String)
        /// No store where the node's store should be.
        case missing(path: String)
        /// A file that is not a palier store (empty, or not SQLite): never rebuilt over.
        case notAStore(path: String, why: String)
        /// Written by a newer palier: its schema and the newest this binary knows.
        case newerSchema(path: String, store: String, known: String)
        /// SQLite says the file is damaged.
        case corrupt(path: String, detail: String)
        /// An image's file could not be written or read.
        case blobFile(path: String, why: String)
        /// Keeping a blob would pass the node's image budget.
        case blobBudget(needed: Int64, used: Int64, budget: Int64)
    }
    package let code: Code

    package init(_ code: Code) { self.code = code }

    /// The database file could not be opened or migrated.
    public static func cannotOpen(path: String, reason: String) -> Self { Self(.cannotOpen(path: path, reason: reason)) }
    /// SQLite reported an error.
    public static func database(_ message: String) -> Self { Self(.database(message)) }
    public static func missing(path: String) -> Self { Self(.missing(path: path)) }
    public static func notAStore(path: String, why: String) -> Self { Self(.notAStore(path: path, why: why)) }
    public static func newerSchema(path: String, store: String, known: String) -> Self { Self(.newerSchema(path: path, store: store, known: known)) }
    public static func corrupt(path: String, detail: String) -> Self { Self(.corrupt(path: path, detail: detail)) }
    public static func blobFile(path: String, why: String) -> Self { Self(.blobFile(path: path, why: why)) }
    public static func blobBudget(needed: Int64, used: Int64, budget: Int64) -> Self { Self(.blobBudget(needed: needed, used: used, budget: budget)) }

    public var description: String {
        switch code {
        case .cannotOpen(let path, let reason): L("The store \(path) could not be opened: \(reason)", "La base de données \(path) n'a pas pu être ouverte : \(reason)")
        case .database(let message): L("The store reported an error: \(message)", "La base de données a signalé une erreur : \(message)")
        case .missing(let path):
            L("The store \(path) is missing, though this node is initialised: restore it from a backup (palier restore); palier does not start over with an empty store, which would lose the building's posts and profile.", "La base de données \(path) manque, alors que ce nœud est initialisé : restaurez-la depuis une sauvegarde (palier restore) ; palier ne repart pas d'une base vide, ce qui perdrait les publications et le profil de l'immeuble.")
        case .notAStore(let path, let why):
            L("The store \(path) is not a palier store (\(why)): nothing was changed. Restore it from a backup (palier restore); palier never rebuilds over it.", "Le fichier \(path) n'est pas une base palier (\(why)) : rien n'a été changé. Restaurez-la depuis une sauvegarde (palier restore) ; palier ne reconstruit jamais par-dessus.")
        case .newerSchema(let path, let store, let known):
            L("The store \(path) was written by a newer palier (schema \(store); this palier knows up to \(known)): install that version again; nothing was changed.", "La base de données \(path) a été écrite par une version plus récente de palier (schéma \(store) ; cette version connaît jusqu'à \(known)) : réinstallez cette version ; rien n'a été changé.")
        case .blobFile(let path, let why): L("The image file \(path) could not be written or read: \(why)", "Le fichier d'image \(path) n'a pas pu être écrit ou lu : \(why)")
        case .blobBudget(let needed, let used, let budget):
            L("The node's image budget is full: \(Self.mebibytes(used)) of \(Self.mebibytes(budget)) are used and this image needs \(Self.mebibytes(needed)). Raise blobs.budgetMiB in config.json, or wait for older posts with images to expire.",
              "Le budget d'images du nœud est plein : \(Self.mebibytes(used)) sur \(Self.mebibytes(budget)) sont pris et cette image demande \(Self.mebibytes(needed)). Augmentez blobs.budgetMiB dans config.json, ou attendez que des publications plus anciennes avec images expirent.")
        case .corrupt(let path, let detail):
            L("The store \(path) is damaged (SQLite: \(detail)): restore it from a backup (palier restore), or copy it aside and run `palier doctor`.", "La base de données \(path) est abîmée (SQLite : \(detail)) : restaurez-la depuis une sauvegarde (palier restore), ou mettez-en une copie de côté et lancez `palier doctor`.")
        }
    }

    /// A size as people read it: "3 KiB", "1.2 MiB", "512 MiB" (French: "3 Kio", "1,2 Mio").
    public static func mebibytes(_ bytes: Int64) -> String {
        func decimal(_ value: Double) -> String {
            let text = value >= 10 ? "\(Int(value.rounded()))" : "\((value * 10).rounded() / 10)"
            return Language.current == .fr ? text.replacingOccurrences(of: ".", with: ",") : text
        }
        if bytes < 1_048_576 {
            let kib = Double(bytes) / 1024
            return L("\(bytes == 0 ? "0" : decimal(max(kib, 0.1))) KiB", "\(bytes == 0 ? "0" : decimal(max(kib, 0.1))) Kio")
        }
        return L("\(decimal(Double(bytes) / 1_048_576)) MiB", "\(decimal(Double(bytes) / 1_048_576)) Mio")
    }

    /// Whether the store refused to open rather than failed an operation.
    public var isRefusedStore: Bool {
        switch code {
        case .missing, .notAStore, .newerSchema, .corrupt: true
        default: false
        }
    }
}
