import PalierCore
import PalierDiscovery
import PalierTestSupport
import Testing

@Suite struct PeerDirectoryTests {
    let own = Fixtures.key(1).publicKey
    let neighbour = Fixtures.key(2).publicKey
    let network = "0123456789abcdef"

    func txt(_ building: PublicKey, network: String? = nil, name: String = "Les Tilleuls") -> [[UInt8]] {
        DiscoveryRecord(building: building, networkID: network ?? self.network, name: name).txt.map { Array($0.utf8) }
    }

    let v4 = ServiceInstance(name: "Les Tilleuls", interface: "v1/IPv4")
    let v6 = ServiceInstance(name: "Les Tilleuls", interface: "v1/IPv6")

    @Test func aNeighbourAppearsChangesAndDisappearsAcrossItsInstances() {
        var directory = PeerDirectory(own: own, networkID: network)
        let id = PeerDirectory.peerID(neighbour)
        let first = directory.resolved(v4, txt: txt(neighbour), endpoint: Endpoint(host: "10.77.0.2", port: 7481))
        #expect(first.ignored == nil)
        #expect(first.events == [.appeared(DiscoveredPeer(id: id, building: neighbour, name: "Les Tilleuls", endpoints: [Endpoint(host: "10.77.0.2", port: 7481)]))])
        // The same data again says nothing; a second address family adds an endpoint (IPv4 first).
        #expect(directory.resolved(v4, txt: txt(neighbour), endpoint: Endpoint(host: "10.77.0.2", port: 7481)).events.isEmpty)
        let second = directory.resolved(v6, txt: txt(neighbour), endpoint: Endpoint(host: "fe80::1%v1", port: 7481))
        #expect(second.events == [.changed(DiscoveredPeer(id: id, building: neighbour, name: "Les Tilleuls", endpoints: [
            Endpoint(host: "10.77.0.2", port: 7481), Endpoint(host: "fe80::1%v1", port: 7481),
        ]))])
        #expect(directory.removed(v4).count == 1)
        #expect(directory.removed(v6) == [.disappeared(id: id)])
        #expect(directory.removed(v6).isEmpty)
        #expect(directory.peers.isEmpty)
    }

    @Test func ownServiceOtherNetworksAndMalformedRecordsAreIgnored() {
        var directory = PeerDirectory(own: own, networkID: network)
        let endpoint = Endpoint(host: "10.77.0.1", port: 7481)
        #expect(directory.resolved(v4, txt: txt(own), endpoint: endpoint) == .init(events: [], ignored: .ownService))
        #expect(directory.resolved(v4, txt: txt(neighbour, network: "fedcba9876543210"), endpoint: endpoint)
            == .init(events: [], ignored: .otherNetwork("fedcba9876543210")))
        #expect(directory.resolved(v4, txt: [Array("v=1".utf8)], endpoint: endpoint) == .init(events: [], ignored: .malformed(.missing("pk"))))
        #expect(directory.peers.isEmpty)
    }

    @Test("a service with this node's key from another run is another node under the same key: a peer, so that sync meets it")
    func sameKeyAnotherRun() {
        let mine = "00112233445566aa", theirs = "ffeeddccbbaa9988"
        var directory = PeerDirectory(own: own, networkID: network, ownRun: mine)
        let endpoint = Endpoint(host: "10.77.0.9", port: 7481)
        func record(run: String?) -> [[UInt8]] {
            DiscoveryRecord(building: own, networkID: network, name: "Les Tilleuls", runID: run).txt.map { Array($0.utf8) }
        }
        #expect(directory.resolved(v4, txt: record(run: mine), endpoint: endpoint).ignored == .ownService)
        #expect(directory.resolved(v4, txt: record(run: nil), endpoint: endpoint).ignored == .ownService)
        let other = directory.resolved(v6, txt: record(run: theirs), endpoint: endpoint)
        #expect(other.ignored == nil)
        #expect(other.events == [.appeared(DiscoveredPeer(id: PeerDirectory.peerID(own), building: own, name: "Les Tilleuls", endpoints: [endpoint]))])
        // A node that publishes no run id of its own keeps ignoring its key.
        var old = PeerDirectory(own: own, networkID: network)
        #expect(old.resolved(v4, txt: record(run: theirs), endpoint: endpoint).ignored == .ownService)
    }

    @Test("run= is read when it is 16 lower-case hex digits, left out otherwise")
    func runIDs() throws {
        func parse(_ run: String) throws -> String? {
            try DiscoveryRecord(txt: (txt(neighbour) + [Array("run=\(run)".utf8)])).runID
        }
        #expect(try parse("0123456789abcdef") == "0123456789abcdef")
        for bad in ["", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg", "\u{e9}123456789abcde"] {
            #expect(try parse(bad) == nil, "\(bad)")
        }
        let run = DiscoveryRecord.newRunID()
        #expect(try DiscoveryRecord(txt: DiscoveryRecord(building: own, networkID: network, name: "x", runID: run).txt.map { Array($0.utf8) }).runID == run)
        #expect(DiscoveryRecord.newRunID() != run)
    }

    @Test func aServiceThatTurnsBadOrChangesBuildingIsUpdated() {
        var directory = PeerDirectory(own: own, networkID: network)
        let endpoint = Endpoint(host: "10.77.0.2", port: 7481)
        _ = directory.resolved(v4, txt: txt(neighbour), endpoint: endpoint)
        // Its TXT record now names another network: the peer is gone.
        let moved = directory.resolved(v4, txt: txt(neighbour, network: "fedcba9876543210"), endpoint: endpoint)
        #expect(moved.events == [.disappeared(id: PeerDirectory.peerID(neighbour))])
        // The instance now announces a third building: that one appears.
        let third = Fixtures.key(3).publicKey
        let replaced = directory.resolved(v4, txt: txt(third, name: "Le Square"), endpoint: endpoint)
        #expect(replaced.events == [.appeared(DiscoveredPeer(id: PeerDirectory.peerID(third), building: third, name: "Le Square", endpoints: [endpoint]))])
        #expect(directory.removeAll() == [.disappeared(id: PeerDirectory.peerID(third))])
    }

    @Test func endpointsReadAndPrintHostAndPort() {
        #expect(Endpoint("10.0.0.1:7481") == Endpoint(host: "10.0.0.1", port: 7481))
        #expect(Endpoint("[fe80::1%v1]:7481") == Endpoint(host: "fe80::1%v1", port: 7481))
        #expect(Endpoint(host: "fe80::1%v1", port: 7481).description == "[fe80::1%v1]:7481")
        #expect(Endpoint("nohost") == nil)
        #expect(Endpoint(":7481") == nil)
        #expect(Endpoint("h:0") == nil)
        #expect(Endpoint("h:70000") == nil)
    }
}
