import ArgumentParser
import Foundation
import PalierCore
import PalierFeed
import PalierNode

struct Profile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Show or change the building's profile and the screen's building panel.", "Afficher ou changer le profil de l'immeuble et le panneau de l'immeuble à l'écran."), discussion: L("Example: palier profile", "Exemple : palier profile"),
        subcommands: [ShowProfile.self, SetProfile.self], defaultSubcommand: ShowProfile.self
    )

    struct ShowProfile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: L("Show the building's name, address and panel.", "Afficher le nom, l'adresse et le panneau de l'immeuble."), discussion: L("Example: palier profile show", "Exemple : palier profile show"))
        @OptionGroup var options: NodeOptions

        func run() async throws {
            let node = try options.openNode()
            Profile.print(node.configuration)
        }
    }

    struct SetProfile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: L("Change the building's name or address (signed again for the neighbours), or the screen's panel.", "Changer le nom ou l'adresse de l'immeuble (signés de nouveau pour les voisins), ou le panneau de l'écran."),
            discussion: L("""
                The panel shows on a quiet or empty screen; it stays on this building's screen.
                Example: palier profile set --caretaker "Mme Martin · loge au RDC · 06 12 34 56 78" --emergency "Pompiers=18" --emergency "SAMU=15"
                """, """
                Le panneau s'affiche sur un écran calme ou vide ; il reste sur l'écran de cet immeuble.
                Exemple : palier profile set --caretaker "Mme Martin · loge au RDC · 06 12 34 56 78" --emergency "Pompiers=18" --emergency "SAMU=15"
                """)
        )
        @OptionGroup var options: NodeOptions
        @Option(help: H("The building's name, as neighbours and screens show it.", "Le nom de l'immeuble, tel que voisins et écrans l'affichent.")) var name: String?
        @Option(help: H("The building's street address.", "L'adresse de l'immeuble.")) var address: String?
        @Option(help: H("Who looks after the building and how to reach them (\"\" removes it).", "Qui s'occupe de l'immeuble et comment le joindre (\"\" l'enlève).")) var caretaker: String?
        @Option(help: H("An emergency number as LABEL=NUMBER; repeat for several. Replaces the list.", "Un numéro d'urgence sous la forme LIBELLÉ=NUMÉRO ; à répéter pour plusieurs. Remplace la liste.")) var emergency: [String] = []
        @Flag(help: H("Remove every emergency number from the panel.", "Retirer tous les numéros d'urgence du panneau.")) var noEmergency = false

        func validate() throws {
            if name == nil && address == nil && caretaker == nil && emergency.isEmpty && !noEmergency {
                throw ValidationError(L("Say what to change: --name, --address, --caretaker, --emergency or --no-emergency.", "Dites quoi changer : --name, --address, --caretaker, --emergency ou --no-emergency."))
            }
            for entry in emergency where Self.number(entry) == nil {
                throw ValidationError(L("'\(entry)' is not LABEL=NUMBER, e.g. \"Pompiers=18\".", "« \(entry) » n'est pas de la forme LIBELLÉ=NUMÉRO, par exemple \"Pompiers=18\"."))
            }
        }

        static func number(_ entry: String) -> KioskPanel.Number? {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            return KioskPanel.Number(label: parts[0], number: parts[1])
        }

        func run() async throws {
            let node = try options.openNode()
            let numbers: [KioskPanel.Number]? = noEmergency ? [] : emergency.isEmpty ? nil : emergency.compactMap(Self.number)
            let (changed, signed) = try node.settingProfile(name: name, address: address, caretaker: caretaker, emergency: numbers)
            Profile.print(changed.configuration)
            if signed { Swift.print(L("The profile was signed again; neighbours see it at their next sync.", "Le profil a été signé de nouveau ; les voisins le verront à leur prochaine synchronisation.")) }
            if changed.directory.runningNodePID() != nil { Swift.print(L("Restart `palier run` for the screen to show the change.", "Redémarrez `palier run` pour que l'écran affiche le changement.")) }
        }
    }

    static func print(_ configuration: NodeConfiguration) {
        Swift.print(L("Name:       \(configuration.buildingName)", "Nom :       \(configuration.buildingName)"))
        Swift.print(L("Address:    \(configuration.address.isEmpty ? "—" : configuration.address)", "Adresse :   \(configuration.address.isEmpty ? "—" : configuration.address)"))
        let panel = configuration.feed.panel
        Swift.print(L("Caretaker:  \(panel?.caretaker ?? "—")", "Gardien :   \(panel?.caretaker ?? "—")"))
        let numbers = panel?.emergency ?? []
        Swift.print(L("Emergency:  \(numbers.isEmpty ? "—" : numbers.map { "\($0.label) \($0.number)" }.joined(separator: " · "))", "Urgences :  \(numbers.isEmpty ? "—" : numbers.map { "\($0.label) \($0.number)" }.joined(separator: " · "))"))
    }
}
