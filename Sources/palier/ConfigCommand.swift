import ArgumentParser
import Foundation
import PalierNode

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check config.json, or show every setting with its effective value.",
        discussion: "Every key is described in docs/configuration.md.\nExample: palier config check",
        subcommands: [Check.self, ShowConfig.self], defaultSubcommand: ShowConfig.self
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check config.json strictly (keys, types, ranges) without starting anything.")
        @OptionGroup var options: NodeOptions

        func run() async throws {
            let directory = try options.ownedDirectory()
            _ = try NodeConfiguration.check(directory)
            print("\(directory.configurationFile.path) is valid.")
        }
    }

    struct ShowConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print every setting with its effective value, defaults included.")
        @OptionGroup var options: NodeOptions

        func run() async throws {
            print(try NodeConfiguration.check(options.ownedDirectory()).effectiveJSON)
        }
    }
}
