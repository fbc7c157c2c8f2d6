import ArgumentParser
import Foundation
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
        abstract: "Write an encrypted backup of this node: keys, configuration and store (while it runs).",
        discussion: """
            Keep it off this machine (a USB key, another computer). With it and its passphrase, \
            `palier restore` brings the building back on a new box.
            Example: palier backup /media/usb/lilas-2026-11-27.palier-backup
            """
    )
    @OptionGroup var options: NodeOptions
    @Argument(help: "The file to write (never over an existing one).") var file: String

    func run() async throws {
        let node = try options.openNode()
        let passphrase = try Passphrase.read(confirm: true)
        let (files, bytes) = try node.backup(to: URL(fileURLWithPath: file), passphrase: passphrase)
        print("Backed up \(files) files of \(node.configuration.buildingName) to \(file) (\(bytes / 1024) KiB, encrypted).")
        print("Keep it and its passphrase apart from this machine: without the passphrase it cannot be opened.")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a node back from a backup, into a directory that holds no node.",
        discussion: "Example: palier restore /media/usb/lilas-2026-11-27.palier-backup --data-dir /var/lib/palier"
    )
    @OptionGroup var options: NodeOptions
    @Argument(help: "The backup file.") var file: String

    func run() async throws {
        let passphrase = try Passphrase.read(confirm: false)
        let node = try BuildingNode.restore(from: URL(fileURLWithPath: file), passphrase: passphrase, into: options.directory)
        let stats = try node.store.statistics()
        print("Restored \(node.configuration.buildingName) into \(node.directory.root.path): \(stats.envelopes) envelopes.")
        print("Building key: \(node.building.text)")
        print("Start it with `palier run`; stop the old box's node first, so that one building runs once.")
    }
}
