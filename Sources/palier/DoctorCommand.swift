import ArgumentParser
import Foundation
import PalierCore
import PalierNode

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Check this box for what a node needs, each problem with its fix.", "Vérifier que cette machine a ce qu'il faut à un nœud, chaque problème avec sa solution."),
        discussion: """
            Looks at the settings, the store (SQLite's integrity check), the clock's \
            synchronisation, free disk space, D-Bus and avahi-daemon, the ports, and the owners \
            and modes of keys, store and settings. Changes nothing. Exit status 0 when nothing \
            stands in the way (warnings aside), 1 otherwise.
            Example: sudo palier doctor
            """
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
            print("  \(label) \(finding.topic.padding(toLength: 6, withPad: " ", startingAt: 0)) \(finding.sentence)")
            if let fix = finding.fix { print("                  → \(fix)") }
        }
        let problems = findings.filter { $0.level == .problem }.count
        let warnings = findings.filter { $0.level == .warning }.count
        switch (problems, warnings) {
        case (0, 0): print("Nothing stands in the way.")
        case (0, _): print("\(warnings) warning\(warnings == 1 ? "" : "s"); nothing stops the node.")
        default: print("\(problems) problem\(problems == 1 ? "" : "s") to fix\(warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "").")
        }
        if problems > 0 { throw ExitCode(1) }
    }

    static func label(_ level: DoctorFinding.Level) -> String {
        switch level {
        case .ok: "ok      "
        case .warning: "WARNING "
        case .problem: "PROBLEM "
        }
    }
}
