import ArgumentParser
import Foundation
import PalierCore
#if canImport(Glibc)
import Glibc
#endif
import PalierNode

/// The passphrase of a backup: $PALIER_PASSPHRASE (for scripts), else asked on the terminal
/// without echo (twice when making a backup).
enum Passphrase {
    static func read(confirm: Bool) throws -> String {
        if let given = ProcessInfo.processInfo.environment["PALIER_PASSPHRASE"] {
            guard !given.isEmpty else { throw ValidationError("PALIER_PASSPHRASE is empty.") }
            return given
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("A passphrase is needed: run this in a terminal, or set PALIER_PASSPHRASE.")
        }
        let first = try ask("Passphrase: ")
        guard first.count >= 8 || !confirm else { throw ValidationError("Choose a passphrase of at least 8 characters (a few words are best).") }
        if confirm, try ask("The same passphrase again: ") != first { throw ValidationError("The two passphrases differ; nothing was written.") }
        return first
    }

    /// One line from the terminal with echo off.
    private static func ask(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = Swift.readLine(strippingNewline: true) else { throw ValidationError("No passphrase was given.") }
        return line
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Write an encrypted backup of this node: keys, configuration and store (while it runs).", "Écrire une sauvegarde chiffrée de ce nœud : clés, réglages et base (pendant qu'il tourne)."),
        discussion: """
            Keep it off this machine (a USB key, another computer). With it and its passphrase, \
            `palier restore` brings the building back on a new box.
            Example: palier backup /media/usb/lilas-2026-11-27.palier-backup
            """
    )
    @OptionGroup var options: NodeOptions
    @Argument(help: "The file to write (never over an existing one).") var file: String

    func run() async throws {
        let passphrase = try Passphrase.read(confirm: true)
        // The file is created by whoever typed the command, before palier becomes the node's
        // user under sudo (``DataOwner``): an admin's backup goes wherever the admin may write.
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "it already exists; palier never writes a backup over a file. Choose another name"
                                         : String(cString: strerror(errno))
            throw NodeError(.backup("\(file) could not be created: \(reason)."))
        }
        let output = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let files: Int, sealed: [UInt8], name: String
        do {
            let node = try options.openNode()
            name = node.configuration.buildingName
            (files, sealed) = try node.sealedBackup(passphrase: passphrase)
            try output.write(contentsOf: sealed)
            try output.synchronize()
        } catch {
            // Nothing half-written is left to be mistaken for a backup.
            if unlink(file) != 0 { _ = ftruncate(fd, 0) }
            throw error
        }
        print("Backed up \(files) files of \(name) to \(file) (\(sealed.count / 1024) KiB, encrypted).")
        print("Keep it and its passphrase apart from this machine: without the passphrase it cannot be opened.")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Bring a node back from a backup, into a directory that holds no node.", "Ramener un nœud depuis une sauvegarde, dans un répertoire qui n'en contient pas."),
        discussion: """
            On a box with the palier package, restore before the first `palier init`, then start \
            the service: sudo palier restore FILE && sudo systemctl enable --now palier
            Example: palier restore /media/usb/lilas-2026-11-27.palier-backup --data-dir /srv/lilas
            """
    )
    @OptionGroup var options: NodeOptions
    @Argument(help: "The backup file.") var file: String

    func run() async throws {
        let passphrase = try Passphrase.read(confirm: false)
        // Read before palier becomes the node's user under sudo: the file is the admin's.
        let sealed = try BuildingNode.readBackup(URL(fileURLWithPath: file))
        let node = try BuildingNode.restore(sealed: sealed, passphrase: passphrase, into: options.ownedDirectory())
        let stats = try node.store.statistics()
        print("Restored \(node.configuration.buildingName) into \(node.directory.root.path): \(stats.envelopes) envelopes.")
        print("Building key: \(node.building.text)")
        print(node.directory.isSystem
              ? "Start it with `sudo systemctl enable --now palier`; stop the old box's node first, so that one building runs once."
              : "Start it with `palier run`; stop the old box's node first, so that one building runs once.")
    }
}
