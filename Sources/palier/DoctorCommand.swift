import ArgumentParser
import Foundation
import PalierCore
import PalierNode

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Check this box for what a node needs, each problem with its fix.", "Vérifier que cette machine a ce qu'il faut à un nœud, chaque problème avec sa solution."),
        discussion: L("""
            Looks at the settings, the store (SQLite's integrity check), the clock's \
            synchronisation, free disk space, D-Bus and avahi-daemon, the ports, and the owners \
            and modes of keys, store and settings. Changes nothing. Exit status 0 when nothing \
            stands in the way (warnings aside), 1 otherwise.
            Example: sudo palier doctor
            """, """
            Examine les réglages, la base de données (contrôle d'intégrité de SQLite), la \
            synchronisation de l'horloge, l'espace disque, D-Bus et avahi-daemon, les ports, et \
            les propriétaires et modes des clés, de la base et des réglages. Ne change rien. Code \
            de sortie 0 quand rien ne fait obstacle (avertissements mis à part), 1 sinon.
            Exemple : sudo palier doctor
            """)
    )
    @OptionGroup var options: NodeOptions

    func run() async throws {
        let findings: [DoctorFinding]
        let title: String
        switch Result(catching: { () throws(NodeError) -> BuildingNode in try options.openNode() }) {
        case .success(let node):
            title = "\(node.configuration.buildingName) (\(node.directory.root.path))"
            findings = node.doctor()
        case .failure(let error):
            // A node that does not open is the finding; its sentence says what to do.
            title = options.directory.root.path
            findings = [DoctorFinding(.problem, "node", error.description)]
        }
        print("palier doctor — \(title)")
        for finding in findings {
            let label = Self.label(finding.level)
            let topic = Self.topic(finding.topic).padding(toLength: 8, withPad: " ", startingAt: 0)
            print("  \(label) \(topic) \(finding.sentence)")
            if let fix = finding.fix { print(String(repeating: " ", count: 4 + label.count + topic.count) + "→ \(fix)") }
        }
        let problems = findings.filter { $0.level == .problem }.count
        let warnings = findings.filter { $0.level == .warning }.count
        switch (problems, warnings) {
        case (0, 0): print(L("Nothing stands in the way.", "Rien ne fait obstacle."))
        case (0, _): print(L("\(warnings) warning\(warnings == 1 ? "" : "s"); nothing stops the node.", "\(warnings) avertissement\(warnings == 1 ? "" : "s") ; rien n'empêche le nœud de tourner."))
        default: print(L("\(problems) problem\(problems == 1 ? "" : "s") to fix\(warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "").", "\(problems) problème\(problems == 1 ? "" : "s") à régler\(warnings > 0 ? ", \(warnings) avertissement\(warnings == 1 ? "" : "s")" : "")."))
        }
        if problems > 0 { throw ExitCode(1) }
    }

    /// What was looked at, as the reader's language says it.
    static func topic(_ topic: String) -> String {
        guard Language.current == .fr else { return topic }
        return ["store": "base", "clock": "horloge", "disk": "disque", "files": "fichiers", "node": "nœud"][topic] ?? topic
    }

    static func label(_ level: DoctorFinding.Level) -> String {
        switch level {
        case .ok: L("ok      ", "ok       ")
        case .warning: L("WARNING ", "ATTENTION")
        case .problem: L("PROBLEM ", "PROBLÈME ")
        }
    }
}
