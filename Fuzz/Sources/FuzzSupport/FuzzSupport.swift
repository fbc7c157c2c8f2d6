import CFuzzDriver
import Foundation
import PalierCore
import PalierCrypto

/// Runs libFuzzer with this process's command line on `target`, and exits with its status.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}

/// Real BLAKE2b, and every signature taken as valid: a fuzzer cannot forge Ed25519, and what
/// comes after the signature check (the rules, the view, the screen) must be reached too.
public struct TrustingCrypto: CryptoProvider {
    let sodium = SodiumCrypto()
    public init() {}
    public func blake2b256(_ message: [UInt8]) -> [UInt8] { sodium.blake2b256(message) }
    public func verifyEd25519(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool { true }
}

/// A libFuzzer input as bytes.
public func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Stops the run with a message: libFuzzer reports it as a crash and keeps the input. Used
/// for broken invariants (a decoded value that does not encode back), not for refusals.
public func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// Instants the rules are tried at: the epoch, a day in 2026, the top of the range.
public let clocks: [UInt64] = [0, 1, 1_793_491_200_000, UInt64.max - 1, UInt64.max]
