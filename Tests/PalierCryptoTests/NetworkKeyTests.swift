import Foundation
import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

struct NetworkKeyTests {
    @Test("an invite string gives back the key; the network id is stable and reveals nothing of it")
    func inviteAndID() throws {
        let key = NetworkKey(bytes: Array(0..<32))!
        #expect(key.invite.hasPrefix("palier-invite-"))
        #expect(try NetworkKey(invite: key.invite) == key)
        #expect(try NetworkKey(invite: "  " + key.invite.uppercased().replacingOccurrences(of: "PALIER-INVITE-", with: "palier-invite-") + "\n") == key)
        #expect(key.id.count == 16)
        #expect(key.id == hexString(BLAKE2b.hash256(Array("palier-network-id-v1\0".utf8) + Array(0..<32)).prefix(8)))
        #expect(!key.invite.contains(key.id))
    }

    @Test("a mistyped invite is refused")
    func typo() throws {
        var invite = Array(NetworkKey.generate().invite)
        invite[20] = invite[20] == "a" ? "b" : "a"
        #expect(throws: KeyTextError.self) { try NetworkKey(invite: String(invite)) }
    }

    @Test("the key file is 0600, never overwritten, and refused when others may read it")
    func file() throws {
        let path = makeTemporaryDirectory("palier-network").appendingPathComponent("network.key").path
        let key = NetworkKey.generate()
        try key.save(path)
        #expect(try NetworkKey.load(path) == key)
        #expect(throws: KeyFileError.alreadyExists(path)) { try NetworkKey.generate().save(path) }
        chmod(path, 0o644)
        #expect(throws: KeyFileError.self) { try NetworkKey.load(path) }
    }
}
