import FuzzSupport
import PalierCore

/// The public key's text form (56 letters, CRC-24): any text is a key or a `KeyTextError`;
/// a key read back from its own text is the same key.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    guard let key = try? PublicKey(text: text) else { return 0 }
    invariant((try? PublicKey(text: key.text)) == key, "a key does not read back from its text")
    return 0
}
