import Foundation
import PalierCore
@testable import PalierCrypto
import PalierTestSupport
import Testing

struct OnionKeyTests {
    @Test("SHA3-256 matches FIPS 202 and Python's hashlib, across the block boundary")
    func sha3() {
        let vectors: [(Int, String)] = [
            (0, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"),
            (135, "7d080d7ba978a75c8a7d1f9be566c859084509c9c2b4928435c225d5777d98e3"),
            (136, "e772c9cf9eb9c991cdfcf125001b454fdbc0a95f188d1b4c844aa032ad6e075e"),
        ]
        for (count, digest) in vectors {
            #expect(hexString(SHA3.sha256([UInt8](repeating: 0, count: count))) == digest)
        }
        #expect(hexString(SHA3.sha256(Array("abc".utf8))) == "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
        #expect(hexString(SHA3.sha256((0..<200).map { UInt8($0) })) == "5f728f63bf5ee48c77f453c0490398fa645b8d4c4e56be9a41cfec344d6ca899")
    }

    /// The address Python computes from the same seed (cryptography's Ed25519, hashlib's SHA3);
    /// the lab checks that tor publishes the key under this very address.
    static let vectorAddress = "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqd.onion"

    @Test("an onion service key's address is tor's v3 address of its public key")
    func address() throws {
        let key = try #require(OnionServiceKey(seed: [UInt8](repeating: 7, count: 32)))
        #expect(key.address.host == Self.vectorAddress)
        #expect(hexString(key.address.key) == "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c")
        #expect(OnionAddress(text: Self.vectorAddress) == key.address)
        #expect(OnionAddress(text: Self.vectorAddress.uppercased()) == key.address)
        #expect(OnionAddress(text: String(Self.vectorAddress.dropLast(6))) == key.address)
        #expect(key.torKeyBlob.hasPrefix("ED25519-V3:"))
        #expect(key.torKeyBlob.count == "ED25519-V3:".count + 88)
    }

    @Test("text that is not a v3 onion address is refused", arguments: [
        "", ".onion", "example.com", "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqe.onion", // checksum
        "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxq.onion", // 55
        "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqdd.onion", // 57
        "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxq1.onion", // not base32
        "facebookcorewwwi.onion", // v2
        "5jfgyy7ctrjavpxvkb5rglwf7gkuo5vox27hxescd3vgsfcg2iwfmxqd.onion.evil",
    ])
    func refused(_ text: String) {
        #expect(OnionAddress(text: text) == nil)
    }

    @Test("the onion key file is created 0600 and never overwritten")
    func keyFile() throws {
        let directory = makeTemporaryDirectory("onion-key")
        let path = directory.appendingPathComponent("onion.key").path
        let (first, created) = try OnionServiceKey.loadOrCreate(path)
        #expect(created)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let (again, createdAgain) = try OnionServiceKey.loadOrCreate(path)
        #expect(!createdAgain)
        #expect(again.address == first.address)

        // A file that cannot be read as a key is reported, and left exactly as it was.
        let damaged = directory.appendingPathComponent("damaged.key").path
        FileManager.default.createFile(atPath: damaged, contents: Data("not a key\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: KeyFileError.malformed(damaged)) { try OnionServiceKey.loadOrCreate(damaged) }
        #expect(FileManager.default.contents(atPath: damaged) == Data("not a key\n".utf8))
        // One others can read is refused, not replaced.
        chmod(path, 0o644)
        #expect(throws: KeyFileError.unsafePermissions(path, mode: UInt32(S_IFREG | 0o644))) { try OnionServiceKey.loadOrCreate(path) }
        chmod(path, 0o600)
        #expect(try OnionServiceKey.load(path).address == first.address)
    }

    @Test("every member derives the same client authorisation key from the network key; another network another")
    func clientAuthorisation() {
        let key = NetworkKey(bytes: [UInt8](repeating: 3, count: 32))!
        let other = NetworkKey(bytes: [UInt8](repeating: 4, count: 32))!
        #expect(key.onionClientAuthorisation.privateKey == key.onionClientAuthorisation.privateKey)
        #expect(key.onionClientAuthorisation.publicKey.count == 32)
        #expect(key.onionClientAuthorisation.publicKey != other.onionClientAuthorisation.publicKey)
        #expect(key.onionClientAuthorisation.privateKey != key.bytes)
    }

    @Test("an invite may carry the inviting building's onion address; a bad one is refused with a reason")
    func invite() throws {
        let key = NetworkKey(bytes: [UInt8](repeating: 3, count: 32))!
        let address = try #require(OnionAddress(text: Self.vectorAddress))
        let invite = Invite(networkKey: key, onion: .init(address: address, port: 7447))
        #expect(invite.text == key.invite + "@" + Self.vectorAddress + ":7447")
        #expect(try Invite(text: invite.text) == invite)
        #expect(try Invite(text: " " + invite.text.uppercased().replacingOccurrences(of: "PALIER-INVITE-", with: "palier-invite-") + "\n") == invite)
        #expect(try Invite(text: key.invite) == Invite(networkKey: key, onion: nil))
        #expect(try NetworkKey(invite: invite.text) == key)
        for bad in ["@", "@\(Self.vectorAddress)", "@\(Self.vectorAddress):0", "@\(Self.vectorAddress):65536", "@example.com:7447",
                    "@\(Self.vectorAddress.dropLast(7))x.onion:7447"] {
            #expect(throws: KeyTextError.self) { try Invite(text: key.invite + bad) }
        }
    }
}

struct OnionVectorTests {
    @Test("the announcement and client authorisation vectors of docs/protocol.md §13.4 (computed in Python)")
    func vectors() throws {
        let building = try #require(SigningKey(seed: [UInt8](repeating: 1, count: 32)))
        #expect(building.publicKey.hex == "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
        let onion = try #require(OnionServiceKey(seed: [UInt8](repeating: 7, count: 32)))
        let announcement = building.announce(onion.address, port: 7481, now: 1_795_844_963_000)
        #expect(hexString(announcement.signedBytes) == "70616c6965722d6f6e696f6e2d616464726573732d7631008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c000001a220b37ab8ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c1d39")
        #expect(hexString(announcement.signature.bytes) == "1a96eb02b36a34949c4da1e94dc035ab6d998bac633d8add3b4cbf6835443c806a0239af5459366d9b43bf24521fa6ad9bec9b242b0f352bd9034b3b4d6b060b")
        #expect(announcement.isSigned(by: SodiumCrypto()))
        let authorisation = NetworkKey(bytes: [UInt8](repeating: 3, count: 32))!.onionClientAuthorisation
        #expect(hexString(authorisation.privateKey) == "53a0fe9a1dc15c634d80f23891497970943a7bc88927337c9e5475f525973689")
        #expect(hexString(authorisation.publicKey) == "43c57a083c1c85efe7ce73893e801c3eea760a4fc73b408275cdba93e0a0a46c")
        #expect(Base32.encode(authorisation.publicKey).uppercased() == "IPCXUCB4DSC67Z6OOOET5AA4H3VHMCSPY45UBATVZW5JHYFAURWA")
    }
}
