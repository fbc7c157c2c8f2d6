import FuzzSupport
import PalierCore

/// The envelope codec with its rules: any bytes decode or are refused with an `EnvelopeError`;
/// what decodes encodes back to the same bytes (one encoding per content), and the
/// clock-dependent admission takes it at any instant.
let validator = EnvelopeValidator(crypto: TrustingCrypto())
let building = PublicKey(bytes: [UInt8](repeating: 7, count: 32))!

@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = bytes(data, size)
    guard let envelope = try? validator.open(input) else { return 0 }
    let encoded = try? EnvelopeCodec.encode(envelope.content)
    invariant(encoded.map { $0 + envelope.signature.bytes } == input, "a decoded envelope encodes to other bytes")
    for now in clocks { _ = try? EnvelopeValidator.admit(envelope.content, now: now, localBuilding: building) }
    _ = ViewRules.view(of: [envelope], now: envelope.content.createdAt, viewer: building)
    return 0
}
