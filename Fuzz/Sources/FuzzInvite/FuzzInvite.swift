import FuzzSupport
import PalierCore
import PalierCrypto

/// The invite string (`palier-invite-`, the network key's text form, and an optional
/// `@<onion address>:<port>`), and onion addresses alone.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    if let address = OnionAddress(text: text) {
        invariant(OnionAddress(text: address.host) == address, "an onion address does not read back from its text")
    }
    guard let invite = try? Invite(text: text) else { return 0 }
    invariant((try? Invite(text: invite.text)) == invite, "an invite does not read back from its text")
    invariant((try? NetworkKey(invite: invite.text)) == invite.networkKey, "a network key does not read back from its invite")
    return 0
}
