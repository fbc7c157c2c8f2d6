import ArgumentParser
import Foundation
import PalierCore
import PalierCrypto
import PalierNode

/// The `palier` command: a thin layer over ``BuildingNode``.
struct Palier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "palier",
        abstract: "A building's node of the palier neighbourhood network.",
        discussion: """
            Every command works on the data directory given by --data-dir, else $PALIER_DIR, \
            else the package's node (/var/lib/palier, configuration in /etc/palier: use sudo), \
            else ./.palier, whether or not `palier run` is running on it.

            On a resident's own computer (no node there): `palier join <code>` once, then \
            post, edit and retract sign with your own key (kept in ~/.config/palier) and go to \
            your building's node; `palier outbox` shows what waits to be sent.
            """,
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

/// Options every command shares.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The node's data directory (default: $PALIER_DIR, else /var/lib/palier where the package is installed, else ./.palier).")
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
    @Option(name: .customLong("as"), help: "Sign with the identity of this name (see `palier identity`).")
    var identity: String?

    @Option(name: .long, help: "Sign with the key in this file.")
    var keyFile: String?

    func validate() throws {
        if identity != nil && keyFile != nil { throw ValidationError("Give either --as or --key-file, not both.") }
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

    static func main() async {
        // Files palier creates are private unless it says otherwise (sockets, directories).
        umask(0o077)
        // Swift repairs arguments that are not UTF-8 with U+FFFD: a title would be stored
        // changed. Refused instead, before anything is read or written.
        if let bad = invalidArgument() {
            FileHandle.standardError.write(Data("palier: argument \(bad) is not valid UTF-8 text (check the terminal's encoding, LANG); nothing was done.\n".utf8))
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
