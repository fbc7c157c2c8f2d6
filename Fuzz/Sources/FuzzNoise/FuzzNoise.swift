import FuzzSupport
import PalierCrypto
import PalierCore

/// The first bytes a stranger sends to the sync port: the Noise handshake's first and third
/// messages as the responder reads them. Any bytes are read or refused with a `NoiseError`.
/// Fixed keys, so that the seed corpus (Tests/PalierSyncTests/FuzzCorpusTests.swift) can hold
/// a valid third message for this very responder.
let networkKey = [UInt8](repeating: 0x42, count: 32)
let staticKey = NoiseKeyPair(privateKey: [UInt8](repeating: 1, count: 32))!
let ephemeralKey = NoiseKeyPair(privateKey: [UInt8](repeating: 2, count: 32))!

@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = bytes(data, size)
    var responder = NoiseHandshake(role: .responder, prologue: SyncProtocol.prologue, staticKey: staticKey, presharedKey: networkKey, ephemeral: ephemeralKey)
    // The input split in two: message 1 (-> e) and message 3 (-> s, se), as a dialler sends them.
    let cut = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
    let first = Array(input.dropFirst().prefix(max(cut - 1, 0)))
    let third = Array(input.dropFirst(max(cut, 1)))
    guard (try? responder.readMessage(first)) != nil, (try? responder.writeMessage()) != nil else { return 0 }
    _ = try? responder.readMessage(third)
    return 0
}
