import Foundation

/// The repository's root directory (this file is Sources/PalierTestSupport/ProjectScript.swift).
public let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What a script printed and how it ended.
public struct ScriptResult: Sendable {
    public let status: Int32
    public let output: String
}

/// Runs one of the project's scripts (a path under the repository root) to its end, through
/// `interpreter` when given (e.g. "python3"), and returns its exit status and standard output
/// (and standard error too, when `captureErrors`). `environment` adds to the inherited one.
public func runProjectScript(_ script: String, interpreter: String? = nil, _ arguments: [String], captureErrors: Bool = false,
                             environment: [String: String] = [:]) throws -> ScriptResult {
    let process = Process()
    let path = packageRoot.appendingPathComponent(script).path
    if let interpreter {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, path] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
    }
    process.environment = palierEnvironment.merging(environment) { _, new in new }
    // Separate pipes: Foundation's Process must not be given one pipe twice.
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    if captureErrors { process.standardError = errors }
    try process.run()
    var text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if captureErrors { text += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    process.waitUntilExit()
    return ScriptResult(status: process.terminationStatus, output: text)
}
