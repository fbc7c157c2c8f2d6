import PalierCore
import PalierTestSupport
import Testing

@Suite struct PublicKeyTextTests {
    @Test(arguments: 0..<20)
    func textRoundTrips(_ n: UInt64) throws {
        let key = Fixtures.key(n).publicKey
        let text = key.text
        #expect(text.count == 56 + 13)
        #expect(text.split(separator: "-").allSatisfy { $0.count == 4 })
        #expect(try PublicKey(text: text) == key)
        // Case, spaces and dashes do not matter.
        #expect(try PublicKey(text: text.uppercased().replacing("-", with: " ")) == key)
    }

    @Test func everySingleCharacterTypoIsCaught() throws {
        let text = Array(Fixtures.key(1).publicKey.text)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var caught = 0
        for (i, c) in text.enumerated() where c != "-" {
            var typo = text
            typo[i] = alphabet[(alphabet.firstIndex(of: c)! + 1) % 32]
            #expect(throws: KeyTextError.self) { try PublicKey(text: String(typo)) }
            caught += 1
        }
        #expect(caught == 56)
    }

    @Test func badInputsSayWhy() {
        #expect(throws: KeyTextError.badLength(3)) { try PublicKey(text: "abc") }
        #expect(throws: KeyTextError.badCharacter("!")) { try PublicKey(text: "abc!") }
        #expect(throws: KeyTextError.badCharacter("1")) { try PublicKey(text: String(repeating: "1", count: 56)) }
    }
}

@Suite struct HybridLogicalClockTests {
    @Test func ticksAreStrictlyIncreasingEvenWhenTheWallClockStepsBack() {
        var clock = HybridLogicalClock()
        let a = clock.tick(wallMillis: 1_000)
        let b = clock.tick(wallMillis: 1_000)
        let c = clock.tick(wallMillis: 900)
        #expect(a < b && b < c)
        #expect(c.millis == 1_000)
        clock.observe(HybridTimestamp(millis: 5_000, counter: 7))
        let d = clock.tick(wallMillis: 2_000)
        #expect(d == HybridTimestamp(millis: 5_000, counter: 8))
        let e = clock.tick(wallMillis: 6_000)
        #expect(e == HybridTimestamp(millis: 6_000))
    }
}
