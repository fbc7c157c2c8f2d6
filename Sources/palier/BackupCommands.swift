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
            guard !given.isEmpty else { throw ValidationError(L("PALIER_PASSPHRASE is empty.", "PALIER_PASSPHRASE est vide.")) }
            return given
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError(L("A passphrase is needed: run this in a terminal, or set PALIER_PASSPHRASE.", "Une phrase de passe est nécessaire : lancez ceci dans un terminal, ou donnez PALIER_PASSPHRASE."))
        }
        let first = try ask(L("Passphrase: ", "Phrase de passe : "))
        guard first.count >= 8 || !confirm else { throw ValidationError(L("Choose a passphrase of at least 8 characters (a few words are best).", "Choisissez une phrase de passe d'au moins 8 caractères (quelques mots, c'est le mieux).")) }
        if confirm, try ask(L("The same passphrase again: ", "La même phrase de passe, encore : ")) != first { throw ValidationError(L("The two passphrases differ; nothing was written.", "Les deux phrases de passe diffèrent ; rien n'a été écrit.")) }
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
        guard let line = Swift.readLine(strippingNewline: true) else { throw ValidationError(L("No passphrase was given.", "Aucune phrase de passe n'a été donnée.")) }
        return line
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Write an encrypted backup of this node: keys, configuration and store (while it runs).", "Écrire une sauvegarde chiffrée de ce nœud : clés, réglages et base (pendant qu'il tourne)."),
        discussion: L("""
            Keep it off this machine (a USB key, another computer). With it and its passphrase, \
            `palier restore` brings the building back on a new box.
            Example: palier backup /media/usb/lilas-2026-11-27.palier-backup
            """, """
            Gardez-la hors de cette machine (une clé USB, un autre ordinateur). Avec elle et sa \
            phrase de passe, `palier restore` ramène l'immeuble sur une nouvelle machine.
            Exemple : palier backup /media/usb/lilas-2026-11-27.palier-backup
            """)
    )
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The file to write (never over an existing one).", "Le fichier à écrire (jamais par-dessus un fichier existant).")) var file: String

    func run() async throws {
        let passphrase = try Passphrase.read(confirm: true)
        // The file is created by whoever typed the command, before palier becomes the node's
        // user under sudo (``DataOwner``): an admin's backup goes wherever the admin may write.
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? L("it already exists; palier never writes a backup over a file. Choose another name", "il existe déjà ; palier n'écrit jamais une sauvegarde par-dessus un fichier. Choisissez un autre nom")
                                         : String(cString: strerror(errno))
            throw NodeError(.backup(L("\(file) could not be created: \(reason).", "\(file) n'a pas pu être créé : \(reason).")))
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
        print(L("Backed up \(files) files of \(name) to \(file) (\(sealed.count / 1024) KiB, encrypted).", "\(files) fichiers de \(name) sauvegardés dans \(file) (\(sealed.count / 1024) Kio, chiffrés)."))
        print(L("Keep it and its passphrase apart from this machine: without the passphrase it cannot be opened.", "Gardez-la, ainsi que sa phrase de passe, loin de cette machine : sans la phrase de passe, elle ne peut pas être ouverte."))
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Bring a node back from a backup, into a directory that holds no node.", "Ramener un nœud depuis une sauvegarde, dans un répertoire qui n'en contient pas."),
        discussion: L("""
            On a box with the palier package, restore before the first `palier init`, then start \
            the service: sudo palier restore FILE && sudo systemctl enable --now palier
            Example: palier restore /media/usb/lilas-2026-11-27.palier-backup --data-dir /srv/lilas
            """, """
            Sur une machine avec le paquet palier, restaurez avant le premier `palier init`, puis \
            démarrez le service : sudo palier restore FICHIER && sudo systemctl enable --now palier
            Exemple : palier restore /media/usb/lilas-2026-11-27.palier-backup --data-dir /srv/lilas
            """)
    )
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The backup file.", "Le fichier de sauvegarde.")) var file: String

    func run() async throws {
        let passphrase = try Passphrase.read(confirm: false)
        // Read before palier becomes the node's user under sudo: the file is the admin's.
        let sealed = try BuildingNode.readBackup(URL(fileURLWithPath: file))
        let node = try BuildingNode.restore(sealed: sealed, passphrase: passphrase, into: options.ownedDirectory())
        let stats = try node.store.statistics()
        print(L("Restored \(node.configuration.buildingName) into \(node.directory.root.path): \(stats.envelopes) envelopes.", "\(node.configuration.buildingName) restauré dans \(node.directory.root.path) : \(stats.envelopes) enveloppes."))
        print(L("Building key: \(node.building.text)", "Clé de l'immeuble : \(node.building.text)"))
        print(node.directory.isSystem
              ? L("Start it with `sudo systemctl enable --now palier`; stop the old box's node first, so that one building runs once.", "Démarrez-le avec `sudo systemctl enable --now palier` ; arrêtez d'abord le nœud de l'ancienne machine, pour qu'un immeuble ne tourne qu'une fois.")
              : L("Start it with `palier run`; stop the old box's node first, so that one building runs once.", "Démarrez-le avec `palier run` ; arrêtez d'abord le nœud de l'ancienne machine, pour qu'un immeuble ne tourne qu'une fois."))
    }
}
