import PalierCore
import Testing

@Suite struct LanguageTests {
    @Test("PALIER_LANG, then LC_ALL, LC_MESSAGES, LANG; a C locale or none leaves it to the building, then French")
    func choice() {
        func choose(_ environment: [String: String], _ building: Language? = nil) -> Language {
            Language.choose(environment: environment, building: building)
        }
        #expect(choose([:]) == .fr)
        #expect(choose([:], .en) == .en)
        #expect(choose(["LANG": "C.UTF-8"], .en) == .en)
        #expect(choose(["LANG": "POSIX"]) == .fr)
        #expect(choose(["LANG": "en_GB.UTF-8"]) == .en)
        #expect(choose(["LANG": "fr_BE.UTF-8"], .en) == .fr)
        #expect(choose(["LANG": "de_DE.UTF-8"]) == .en)
        #expect(choose(["LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"]) == .fr)
        #expect(choose(["LC_MESSAGES": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"]) == .en)
        #expect(choose(["LC_ALL": "", "LANG": "en_US"]) == .en)
        #expect(choose(["LC_ALL": "fr_FR.UTF-8", "PALIER_LANG": "en"]) == .en)
        #expect(choose(["PALIER_LANG": "xx", "LANG": "fr_CA"]) == .fr)
        #expect(choose(["LANG": "fr@euro"]) == .fr)
    }
}
