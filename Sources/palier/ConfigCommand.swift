import ArgumentParser
import Foundation
import PalierCore
import PalierNode

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Check config.json, or show every setting with its effective value.", "Vérifier config.json, ou afficher chaque réglage avec sa valeur effective."),
        discussion: L("Every key is described in docs/configuration.md.\nExample: palier config check", "Chaque clé est décrite dans docs/configuration.md.\nExemple : palier config check"),
        subcommands: [Check.self, ShowConfig.self], defaultSubcommand: ShowConfig.self
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("Check config.json strictly (keys, types, ranges) without starting anything.", "Vérifier strictement config.json (clés, types, bornes) sans rien démarrer."), discussion: L("Example: sudo palier config check", "Exemple : sudo palier config check"))
        @OptionGroup var options: NodeOptions

        func run() async throws {
            let directory = try options.ownedDirectory()
            _ = try NodeConfiguration.check(directory)
            print(L("\(directory.configurationFile.path) is valid.", "\(directory.configurationFile.path) est valide."))
        }
    }

    struct ShowConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: L("Print every setting with its effective value, defaults included.", "Afficher chaque réglage avec sa valeur effective, valeurs par défaut comprises."), discussion: L("Example: palier config show", "Exemple : palier config show"))
        @OptionGroup var options: NodeOptions

        func run() async throws {
            print(try NodeConfiguration.check(options.ownedDirectory()).effectiveJSON)
        }
    }
}
