import ArgumentParser
import Foundation
import PalierCore
import PalierFeed
import PalierNode

struct Profile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Show or change the building's profile and the screen's building panel.", "Afficher ou changer le profil de l'immeuble et le panneau de l'immeuble à l'écran."),
        subcommands: [ShowProfile.self, SetProfile.self], defaultSubcommand: ShowProfile.self
    )

    struct ShowProfile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: L("Show the building's name, address and panel.", "Afficher le nom, l'adresse et le panneau de l'immeuble."))
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
            discussion: """
                The panel shows on a quiet or empty screen; it stays on this building's screen.
                Example: palier profile set --caretaker "Mme Martin · loge au RDC · 06 12 34 56 78" --emergency "Pompiers=18" --emergency "SAMU=15"
                """
        )
        @OptionGroup var options: NodeOptions
        @Option(help: "The building's name, as neighbours and screens show it.") var name: String?
        @Option(help: "The building's street address.") var address: String?
        @Option(help: "Who looks after the building and how to reach them (\"\" removes it).") var caretaker: String?
        @Option(help: "An emergency number as LABEL=NUMBER; repeat for several. Replaces the list.") var emergency: [String] = []
        @Flag(help: "Remove every emergency number from the panel.") var noEmergency = false

        func validate() throws {
            if name == nil && address == nil && caretaker == nil && emergency.isEmpty && !noEmergency {
                throw ValidationError("Say what to change: --name, --address, --caretaker, --emergency or --no-emergency.")
            }
            for entry in emergency where Self.number(entry) == nil {
                throw ValidationError("'\(entry)' is not LABEL=NUMBER, e.g. \"Pompiers=18\".")
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
            if signed { Swift.print("The profile was signed again; neighbours see it at their next sync.") }
            if changed.directory.runningNodePID() != nil { Swift.print("Restart `palier run` for the screen to show the change.") }
        }
    }

    static func print(_ configuration: NodeConfiguration) {
        Swift.print("Name:       \(configuration.buildingName)")
        Swift.print("Address:    \(configuration.address.isEmpty ? "—" : configuration.address)")
        let panel = configuration.feed.panel
        Swift.print("Caretaker:  \(panel?.caretaker ?? "—")")
        let numbers = panel?.emergency ?? []
        Swift.print("Emergency:  \(numbers.isEmpty ? "—" : numbers.map { "\($0.label) \($0.number)" }.joined(separator: " · "))")
    }
}
