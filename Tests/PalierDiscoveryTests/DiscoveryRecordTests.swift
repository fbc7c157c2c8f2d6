import PalierCore
import PalierDiscovery
import PalierTestSupport
import Testing

@Suite struct DiscoveryRecordTests {
    let building = Fixtures.key(1).publicKey
    let network = "0123456789abcdef"

    func bytes(_ strings: [String]) -> [[UInt8]] { strings.map { Array($0.utf8) } }

    @Test func recordRoundTripsThroughItsTXTStrings() throws {
        let record = DiscoveryRecord(building: building, networkID: network, name: "Résidence Bourdarias")
        #expect(record.txt == ["v=1", "pk=\(building.text)", "net=\(network)", "name=Résidence Bourdarias"])
        #expect(try DiscoveryRecord(txt: bytes(record.txt)) == record)
    }

    @Test func keysAreCaseInsensitiveTheFirstOccurrenceCountsAndUnknownKeysAreIgnored() throws {
        let record = try DiscoveryRecord(txt: bytes([
            "V=2", "PK=\(building.text)", "net=\(network)", "name=First", "name=Second", "future=x", "flag",
        ]))
        #expect(record.version == 2)
        #expect(record.name == "First")
    }

    @Test func namesAreCutToTheirLimitsAtACharacterBoundary() {
        let long = String(repeating: "é", count: 80)  // 160 bytes
        let record = DiscoveryRecord(building: building, networkID: network, name: long)
        #expect(record.name.utf8.count <= DiscoveryRecord.maximumNameBytes)
        #expect(record.name == String(repeating: "é", count: 50))
        #expect(record.instanceName == String(repeating: "é", count: 31))
        #expect(DiscoveryRecord(building: building, networkID: network, name: "").instanceName == "palier \(building.shortText)")
        // The alternative after a collision carries the start of the key, and still fits a label.
        #expect(DiscoveryRecord(building: building, networkID: network, name: "Les Tilleuls").alternativeInstanceName
            == "Les Tilleuls (\(building.shortText))")
        let alternative = record.alternativeInstanceName
        #expect(alternative.utf8.count <= DiscoveryRecord.maximumInstanceNameBytes && alternative.hasSuffix(" (\(building.shortText))"))
    }

    @Test(arguments: [
        (["pk=K", "net=N", "name=x"], DiscoveryRecordError.missing("v")),
        (["v=1", "net=N", "name=x"], .missing("pk")),
        (["v=1", "pk=K", "name=x"], .missing("net")),
        (["v=1", "pk=K", "net=N"], .missing("name")),
        (["v=one", "pk=K", "net=N", "name=x"], .invalid("v", "not a version number")),
        (["v=0", "pk=K", "net=N", "name=x"], .unsupportedVersion(0)),
        (["v=1", "pk=K", "net=0123456789ABCDEF", "name=x"], .invalid("net", "not 16 lower-case hex digits")),
        (["v=1", "pk=K", "net=0123", "name=x"], .invalid("net", "not 16 lower-case hex digits")),
        (["v=1", "pk=K", "net=N", "name=" + String(repeating: "x", count: 101)], .invalid("name", "longer than 100 bytes")),
    ])
    func malformedRecordsAreRefusedWithTheirReason(strings: [String], expected: DiscoveryRecordError) {
        let filled = strings.map { $0.replacingOccurrences(of: "=K", with: "=\(building.text)").replacingOccurrences(of: "=N", with: "=\(network)") }
        #expect(throws: expected) { try DiscoveryRecord(txt: bytes(filled)) }
    }

    @Test func badKeyTextOversizedStringsAndBadUTF8AreRefused() {
        var text = building.text
        text.removeLast()
        text.append(text.last == "a" ? "b" : "a")  // checksum no longer matches
        #expect(throws: DiscoveryRecordError.self) { try DiscoveryRecord(txt: bytes(["v=1", "pk=\(text)", "net=\(network)", "name=x"])) }
        #expect(throws: DiscoveryRecordError.oversized(300)) {
            try DiscoveryRecord(txt: bytes(["v=1", "pk=\(building.text)", "net=\(network)", "x=" + String(repeating: "y", count: 298)]))
        }
        #expect(throws: DiscoveryRecordError.tooManyStrings(33)) { try DiscoveryRecord(txt: Array(repeating: Array("a=b".utf8), count: 33)) }
        #expect(throws: DiscoveryRecordError.invalid("name", "not UTF-8")) {
            try DiscoveryRecord(txt: bytes(["v=1", "pk=\(building.text)", "net=\(network)"]) + [Array("name=".utf8) + [0xff, 0xfe]])
        }
    }

    @Test("res= carries the residents' port; a value that is not a port is left out and the record still counts")
    func residentsPort() throws {
        let key = Fixtures.key(3).publicKey
        let record = DiscoveryRecord(building: key, networkID: "0123456789abcdef", name: "Les Lilas", residentsPort: 7482)
        #expect(record.txt.last == "res=7482")
        #expect(try DiscoveryRecord(txt: record.txt.map { Array($0.utf8) }) == record)
        let plain = DiscoveryRecord(building: key, networkID: "0123456789abcdef", name: "Les Lilas")
        #expect(plain.txt.count == 4)
        for bad in ["res=0", "res=65536", "res=123456", "res=abc", "res=", "res=-1", "res=+80"] {
            let read = try DiscoveryRecord(txt: (plain.txt + [bad]).map { Array($0.utf8) })
            #expect(read.residentsPort == nil, "\(bad)")
            #expect(read.building == key)
        }
        #expect(try DiscoveryRecord(txt: (plain.txt + ["RES=1"]).map { Array($0.utf8) }).residentsPort == 1)
        #expect(try DiscoveryRecord(txt: (plain.txt + ["res=65535"]).map { Array($0.utf8) }).residentsPort == 65535)
    }
}
