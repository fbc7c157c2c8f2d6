import FuzzSupport
import PalierCrypto

/// The invite string (`palier-invite-` and the network key's text form).
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    guard let key = try? NetworkKey(invite: text) else { return 0 }
    invariant((try? NetworkKey(invite: key.invite)) == key, "a network key does not read back from its invite")
    return 0
}
