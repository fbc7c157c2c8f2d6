import Foundation

/// What the test labs (`scripts/avahi-lab.sh`, `scripts/tor-lab.sh`) share: a `check` that says
/// why no lab can be made here, and `exec DIR NAME CMD…` that runs a command in a building's
/// namespace.
enum LabScript {
    /// Why `script check` fails, said once on standard error for the tests it skips; nil when a
    /// lab can be made.
    static func unavailableReason(_ script: String, skipping tests: String) -> String? {
        let result = try? runProjectScript(script, ["check"], captureErrors: true)
        guard let result else { return "\(script) could not be run" }
        if result.status == 0 { return nil }
        let reason = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        FileHandle.standardError.write(Data("Skipping the \(tests): \(reason)\n".utf8))
        return reason
    }

    /// Starts `arguments` in `building`'s namespace of the lab in `directory`, with standard
    /// error to `log` (a file). Its pid is recorded in the building's directory so that the
    /// lab's `down` stops it if the test did not.
    static func start(_ script: String, directory: String, building: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.environment = palierEnvironment
        process.executableURL = packageRoot.appendingPathComponent(script)
        process.arguments = ["exec", directory, building] + arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        // `exec` replaces itself with the command: this pid is the command's.
        let pids = "\(directory)/\(building)/started-\(process.processIdentifier).pid"
        try "\(process.processIdentifier)\n".write(toFile: pids, atomically: true, encoding: .utf8)
        return process
    }
}
