import ArgumentParser
import Foundation
import PalierCore
import PalierCrypto
import PalierNode

/// The `palier` command: a thin layer over ``BuildingNode``.
struct Palier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "palier",
        abstract: L("A building's node of the palier neighbourhood network.", "Le nœud d'un immeuble du réseau de quartier palier."),
        discussion: L("""
            Every command works on the data directory given by --data-dir, else $PALIER_DIR, \
            else the package's node (/var/lib/palier, configuration in /etc/palier: use sudo), \
            else ./.palier, whether or not `palier run` is running on it.

            On a resident's own computer (no node there): `palier join <code>` once, then \
            post, edit and retract sign with your own key (kept in ~/.config/palier) and go to \
            your building's node; `palier outbox` shows what waits to be sent.

            Language: French or English, from PALIER_LANG (fr, en), else LC_ALL, LC_MESSAGES or \
            LANG, else the building's screen language (feed.language).
            Example: palier status
            """, """
            Chaque commande agit sur le répertoire de données donné par --data-dir, sinon \
            $PALIER_DIR, sinon le nœud du paquet (/var/lib/palier, réglages dans /etc/palier : \
            utilisez sudo), sinon ./.palier, que `palier run` y tourne ou non.

            Sur l'ordinateur d'un résident (sans nœud) : `palier join <code>` une fois, puis post, \
            edit et retract signent avec votre propre clé (gardée dans ~/.config/palier) et vont \
            au nœud de votre immeuble ; `palier outbox` montre ce qui attend d'être envoyé.

            Langue : français ou anglais, selon PALIER_LANG (fr, en), sinon LC_ALL, LC_MESSAGES \
            ou LANG, sinon la langue de l'écran de l'immeuble (feed.language).
            Exemple : palier status
            """),
        version: PalierVersion.current,
        subcommands: [
            Init.self, Run.self, Status.self, Identity.self, GrantCommand.self, Revoke.self,
            Post.self, List.self, Show.self, Edit.self, Retract.self, Hide.self, Feed.self,
            Network.self, Follow.self, Unfollow.self, Block.self, Unblock.self, Peers.self,
            Quarantine.self, Enrol.self, Join.self, Outbox.self, Pending.self, Approve.self, Reject.self, Hidden.self, Unhide.self,
            Profile.self, Config.self, Backup.self, Restore.self, Key.self, Doctor.self,
        ]
    )
}

/// An option's or argument's help in the current language (``L(_:_:)``).
func H(_ english: String, _ french: String) -> ArgumentHelp { ArgumentHelp(L(english, french)) }

/// Options every command shares.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(L("The node's data directory (default: $PALIER_DIR, else /var/lib/palier where the package is installed, else ./.palier).",
                                               "Le répertoire de données du nœud (par défaut : $PALIER_DIR, sinon /var/lib/palier si le paquet est installé, sinon ./.palier).")))
    var dataDir: String?

    /// Where the node is; nothing is read yet.
    var directory: NodeDirectory { NodeDirectory.resolve(dataDir) }

    /// Where the node is, once this process may touch it (see ``DataOwner``).
    func ownedDirectory() throws(NodeError) -> NodeDirectory {
        let directory = self.directory
        try DataOwner.adopt(directory)
        return directory
    }

    func openNode() throws(NodeError) -> BuildingNode {
        try BuildingNode.open(ownedDirectory())
    }
}

/// Which key signs: a named identity, a key file, or by default the building key.
struct SignerOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: H("Sign with the identity of this name (see `palier identity`).", "Signer avec l'identité de ce nom (voir `palier identity`)."))
    var identity: String?

    @Option(name: .long, help: H("Sign with the key in this file.", "Signer avec la clé de ce fichier."))
    var keyFile: String?

    func validate() throws {
        if identity != nil && keyFile != nil { throw ValidationError(L("Give either --as or --key-file, not both.", "Donnez --as ou --key-file, pas les deux.")) }
    }

    func signingKey(_ node: BuildingNode) throws(NodeError) -> SigningKey {
        if let identity { return try node.identity(named: identity) }
        if let keyFile { return try node.loadKeyFile(keyFile) }
        return node.buildingKey
    }
}

@main
enum Main {
    /// The position of the first argument that is not valid UTF-8, if any.
    static func invalidArgument() -> Int? {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            if String(validatingCString: raw) == nil { return index }
        }
        return nil
    }

    /// The language of messages and help (``Language/choose(environment:building:)``): the
    /// building's is its screen's (feed.language), read here without checking the rest of the
    /// file, which the command then reads strictly.
    static func chooseLanguage() -> Language {
        let arguments = CommandLine.arguments
        var dataDir: String?
        if let index = arguments.firstIndex(of: "--data-dir"), index + 1 < arguments.count {
            dataDir = arguments[index + 1]
        } else if let joined = arguments.first(where: { $0.hasPrefix("--data-dir=") }) {
            dataDir = String(joined.dropFirst("--data-dir=".count))
        }
        let file = NodeDirectory.resolve(dataDir).configurationFile
        let settings = (try? Data(contentsOf: file)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        let building = settings.map { settings in
            ((settings["feed"] as? [String: Any])?["language"] as? String).flatMap(Language.init(rawValue:)) ?? .fr
        }
        return Language.choose(environment: ProcessInfo.processInfo.environment, building: building)
    }

    static func main() async {
        // Files palier creates are private unless it says otherwise (sockets, directories).
        umask(0o077)
        Language.current = chooseLanguage()
        // Swift repairs arguments that are not UTF-8 with U+FFFD: a title would be stored
        // changed. Refused instead, before anything is read or written.
        if let bad = invalidArgument() {
            let sentence = L("argument \(bad) is not valid UTF-8 text (check the terminal's encoding, LANG); nothing was done.",
                             "l'argument \(bad) n'est pas un texte UTF-8 valide (vérifiez l'encodage du terminal, LANG) ; rien n'a été fait.")
            FileHandle.standardError.write(Data("palier: \(sentence)\n".utf8))
            exit(65)  // EX_DATAERR
        }
        do {
            var command = try Palier.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as NodeError {
            FileHandle.standardError.write(Data("palier: \(error)\n".utf8))
            exit(error.exitCode)
        } catch {
            Palier.exit(withError: error)
        }
    }
}
