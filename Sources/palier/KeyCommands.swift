import ArgumentParser
import Foundation
import PalierCore
#if canImport(Glibc)
import Glibc
#endif
import PalierCrypto
import PalierNode

/// The building key on paper, and the building back from it.
struct Key: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Keep the building key on paper, and recover the building from it.", "Garder la clé de l'immeuble sur papier, et retrouver l'immeuble grâce à elle."), discussion: L("Example: sudo palier key export --paper", "Exemple : sudo palier key export --paper"),
        subcommands: [Export.self, Recover.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: L("Print the building key as 24 words and a QR code, to keep on paper.", "Imprimer la clé de l'immeuble en 24 mots et un code QR, à garder sur papier."),
            discussion: L("""
                Whoever has these words can post as the building: print them, keep the paper \
                locked away, and do not leave them in a file. With them, `palier key recover` \
                brings the building back if the box and its backups are lost.
                Example: sudo palier key export --paper | lp
                """, """
                Qui a ces mots peut publier au nom de l'immeuble : imprimez-les, gardez le papier \
                sous clé, et ne les laissez pas dans un fichier. Avec eux, `palier key recover` \
                ramène l'immeuble si la machine et ses sauvegardes sont perdues.
                Exemple : sudo palier key export --paper | lp
                """)
        )
        @OptionGroup var options: NodeOptions
        @Flag(help: H("Words and QR code for paper (the only form there is).", "Des mots et un code QR pour le papier (la seule forme qui existe).")) var paper = false

        func validate() throws {
            guard paper else { throw ValidationError(L("Say --paper: the building key leaves the node only on paper.", "Précisez --paper : la clé de l'immeuble ne quitte le nœud que sur papier.")) }
        }

        func run() async throws {
            let node = try options.openNode()
            let words = PaperKey.words(node.buildingKey)
            print(L("palier — building key of \(node.configuration.buildingName)", "palier — clé de l'immeuble \(node.configuration.buildingName)"))
            print(L("Public key: \(node.building.text)", "Clé publique : \(node.building.text)"))
            print(L("Printed on \(TimeSpec.format(node.now())). Whoever holds these words can post as the building: keep this paper locked away.", "Imprimé le \(TimeSpec.format(node.now())). Qui détient ces mots peut publier au nom de l'immeuble : gardez ce papier sous clé."))
            print("")
            let rows = PaperKey.wordCount / 3
            for row in 0..<rows {
                let cells = (0..<3).map { column -> String in
                    let index = column * rows + row
                    let label = String(repeating: " ", count: index + 1 < 10 ? 1 : 0) + "\(index + 1). " + words[index]
                    return label.padding(toLength: 18, withPad: " ", startingAt: 0)
                }
                var line = "  " + cells.joined()
                while line.hasSuffix(" ") { line.removeLast() }
                print(line)
            }
            print("")
            if let symbol = QRCodeText.render(words.joined(separator: " "), caseInsensitive: false, colours: isatty(STDOUT_FILENO) == 1) {
                print(symbol)
            }
            print(L("To recover: palier key recover --name \"\(node.configuration.buildingName)\", then type the words (four letters of each are enough).", "Pour retrouver l'immeuble : palier key recover --name \"\(node.configuration.buildingName)\", puis tapez les mots (quatre lettres de chacun suffisent)."))
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: L("Bring the building back from its 24 paper words into a new, empty node.", "Ramener l'immeuble depuis ses 24 mots sur papier dans un nouveau nœud vide."),
            discussion: L("""
                The words are read from the terminal (or standard input). The new node has the \
                building's key, so neighbours know it again and send back the neighbourhood's \
                posts at the next sync; join the network again with an invitation from a \
                neighbour (palier network join). A backup (palier restore) brings back more: \
                posts, settings, the network key.
                Example: sudo palier key recover --name "Les Lilas" --address "12 rue des Lilas, Lyon"
                """, """
                Les mots sont lus depuis le terminal (ou l'entrée standard). Le nouveau nœud a la clé \
                de l'immeuble : les voisins le reconnaissent et renvoient les publications du \
                quartier à la prochaine synchronisation ; rejoignez de nouveau le réseau avec une \
                invitation d'un voisin (palier network join). Une sauvegarde (palier restore) ramène \
                davantage : publications, réglages, clé du réseau.
                Exemple : sudo palier key recover --name "Les Lilas" --address "12 rue des Lilas, Lyon"
                """)
        )
        @OptionGroup var options: NodeOptions
        @Option(help: H("The building's name, as neighbours and screens show it.", "Le nom de l'immeuble, tel que voisins et écrans l'affichent.")) var name: String
        @Option(help: H("The building's street address.", "L'adresse de l'immeuble.")) var address: String = ""

        func run() async throws {
            let directory = try options.ownedDirectory()
            guard !directory.isInitialised else { throw NodeError(.alreadyInitialised(directory.root.path)) }
            if isatty(STDIN_FILENO) == 1 {
                FileHandle.standardError.write(Data(L("Type the 24 words, in order, then an empty line:\n", "Tapez les 24 mots, dans l'ordre, puis une ligne vide :\n").utf8))
            }
            var text = ""
            while let line = Swift.readLine(strippingNewline: true) {
                if line.trimmingCharacters(in: .whitespaces).isEmpty && !text.isEmpty { break }
                text += line + " "
            }
            let key: SigningKey
            do { key = try PaperKey.key(from: text) } catch {
                throw NodeError(.invalidPaperKey(error))
            }
            var configuration = NodeConfiguration(buildingName: name, address: address)
            if directory.isSystem { configuration.feed.group = NodeDirectory.SystemLayout.screenGroup }
            let node = try BuildingNode.initialise(directory, configuration: configuration, recovering: key)
            print(L("Recovered \(name) in \(directory.root.path).", "\(name) est retrouvé dans \(directory.root.path)."))
            print(L("Building key: \(node.building.text)", "Clé de l'immeuble : \(node.building.text)"))
            print(L("Next: `palier network join <invite>` with the invite a neighbouring admin reads from `palier network` on their node; the posts come back at the next sync.", "Ensuite : `palier network join <invitation>` avec l'invitation qu'un administrateur voisin lit avec `palier network` sur son nœud ; les publications reviennent à la prochaine synchronisation."))
        }
    }
}
