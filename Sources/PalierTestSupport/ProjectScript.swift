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
/// `interpreter` when given (e.g. "python3"), and returns its exit status and standard output.
public func runProjectScript(_ script: String, interpreter: String? = nil, _ arguments: [String]) throws -> ScriptResult {
    let process = Process()
    let path = packageRoot.appendingPathComponent(script).path
    if let interpreter {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, path] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
    }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return ScriptResult(status: process.terminationStatus, output: text)
}
