import ArgumentParser
import Foundation
import PalierCore
import PalierNode
import PalierStore

/// What the node set aside after it stopped while handling it (README, "When the node stops
/// without shutting down").
struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("List the envelopes set aside after the node stopped while handling them, or release them.", "Lister les enveloppes mises de côté quand le nœud s'est arrêté en les traitant, ou les libérer."),
        discussion: L("""
            When `palier run` stops without shutting down (a crash, a kill), the envelopes its screen \
            had not yet shown are set aside at the next start: kept, but not shown, relayed or fetched \
            again, so that an envelope that crashes the node cannot crash it at every start. Release \
            them once the cause is known (an upgrade that fixes it, or a kill that was not their fault).
            Example: palier quarantine release --all
            """, """
            Quand `palier run` s'arrête sans s'éteindre proprement (un plantage, un kill), les \
            enveloppes que son écran n'avait pas encore montrées sont mises de côté au démarrage \
            suivant : gardées, mais ni affichées, ni relayées, ni redemandées, pour qu'une \
            enveloppe qui fait planter le nœud ne le fasse pas planter à chaque démarrage. \
            Libérez-les une fois la cause connue (une mise à jour qui la corrige, ou un kill dont \
            elles n'étaient pas la cause).
            Exemple : palier quarantine release --all
            """),
        subcommands: [ListSetAside.self, Release.self],
        defaultSubcommand: ListSetAside.self
    )

    struct ListSetAside: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: L("List what is set aside.", "Lister ce qui est mis de côté."), discussion: L("Example: palier quarantine list", "Exemple : palier quarantine list"))
        @OptionGroup var options: NodeOptions

        func run() async throws {
            let node = try options.openNode()
            let set = try node.quarantined()
            guard !set.isEmpty else {
                print(L("Nothing is set aside.", "Rien n'est mis de côté."))
                return
            }
            for envelope in set {
                let kind = envelope.bytes.count > 1 ? Kind(rawValue: envelope.bytes[1])?.name ?? "?" : "?"
                print(L("\(envelope.id.shortHex)  \(kind)  set aside \(TimeSpec.format(envelope.since)), because \(envelope.reason)", "\(envelope.id.shortHex)  \(kind)  mise de côté le \(TimeSpec.format(envelope.since)), car \(envelope.reason)"))
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: L("Take envelopes out of quarantine through the ordinary checks (they may be refused).", "Sortir des enveloppes de la quarantaine par les vérifications ordinaires (elles peuvent être refusées)."), discussion: L("Example: palier quarantine release --all", "Exemple : palier quarantine release --all"))
        @OptionGroup var options: NodeOptions
        @Argument(help: H("Id prefixes of envelopes to release.", "Débuts d'identifiants des enveloppes à libérer.")) var ids: [String] = []
        @Flag(help: H("Release everything set aside.", "Libérer tout ce qui est mis de côté.")) var all = false

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError(L("Name the envelopes to release, or give --all.", "Nommez les enveloppes à libérer, ou donnez --all.")) }
        }

        func run() async throws {
            let node = try options.openNode()
            let set = try node.quarantined()
            var chosen: [EnvelopeID] = []
            for prefix in ids {
                let matches = set.filter { $0.id.hex.hasPrefix(prefix.lowercased()) }
                guard matches.count == 1 else {
                    throw NodeError.configuration(matches.isEmpty
                        ? "Nothing set aside has an id starting with \(prefix) (palier quarantine lists them)."
                        : "\(matches.count) envelopes set aside have ids starting with \(prefix); give more of the id.")
                }
                chosen.append(matches[0].id)
            }
            if all { chosen = set.map(\.id) }
            let report = try node.release(chosen)
            print(L("Released \(chosen.count): \(report.accepted.count) stored again, \(report.refused.count) refused, \(report.duplicates) already held.", "\(chosen.count) libérée(s) : \(report.accepted.count) enregistrée(s) de nouveau, \(report.refused.count) refusée(s), \(report.duplicates) déjà présente(s)."))
        }
    }
}
