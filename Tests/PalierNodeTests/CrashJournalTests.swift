import Foundation
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierStore
import PalierFeed
import PalierTestSupport
import Testing

/// A node that dies while handling a stranger's input sets that input aside at its next start,
/// instead of meeting it again at every start (a restart loop under systemd).
@Suite struct CrashJournalTests {
    let clock = ManualClock(Fixtures.epoch)
    let neighbour = Fixtures.key(90)

    func makeNode() throws -> BuildingNode {
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        return try BuildingNode.initialise(directory, configuration: NodeConfiguration(buildingName: "Les Tilleuls"), clock: clock)
    }

    /// An envelope from the neighbouring building, as sync would store it.
    func neighbourPost(_ node: BuildingNode, title: String) throws -> Envelope {
        let post = Fixtures.post(.tip, by: neighbour, in: neighbour.publicKey, at: Fixtures.epoch, title: title)
        #expect(try node.store.ingest([post.bytes], now: clock.nowMillis()).accepted == [post.id])
        return post
    }

    @Test("a clean stop leaves nothing to set aside")
    func cleanStop() throws {
        let node = try makeNode()
        let journal = try CrashJournal(path: node.crashJournalPath)
        #expect(journal.leftover() == nil)
        try journal.started(shownRow: node.store.lastRowID())
        _ = try neighbourPost(node, title: "Vélo trouvé")
        journal.handling(messageFrom: neighbour.publicKey)
        journal.handled()
        journal.stopped()
        #expect(try CrashJournal(path: node.crashJournalPath).recover(node, now: clock.nowMillis()) == nil)
        #expect(try node.quarantined().isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: node.crashJournalPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("after a crash in the middle of a neighbour's message: what the screen had not shown is quarantined, the sender suspended, nothing re-fetched, and an admin can release it")
    func crashWhileHandling() throws {
        let node = try makeNode()
        var journal: CrashJournal? = try CrashJournal(path: node.crashJournalPath)
        try journal!.started(shownRow: node.store.lastRowID())
        let shown = try neighbourPost(node, title: "Déjà affiché")
        journal!.shown(upToRow: try node.store.lastRowID())
        journal!.handling(messageFrom: neighbour.publicKey)
        let poison = try neighbourPost(node, title: "Celui qui fait tomber le nœud")
        journal = nil  // the process dies here: neither handled() nor stopped()

        let next = try CrashJournal(path: node.crashJournalPath)
        #expect(next.leftover()?.handlingMessageFrom == neighbour.publicKey)
        let recovery = try #require(try next.recover(node, now: clock.nowMillis()))
        #expect(recovery.quarantined == [poison.id])
        #expect(recovery.suspended == neighbour.publicKey)
        // Not stored, not shown; held, so that neither a peer's offer nor reconciliation brings it back.
        #expect(try node.store.envelope(poison.id) == nil)
        #expect(try node.store.envelope(shown.id) != nil)
        #expect(try node.store.held([poison.id]) == [poison.id])
        let again = try node.store.ingest([poison.bytes], now: clock.nowMillis())
        #expect(again.accepted.isEmpty && again.duplicates == 1)
        #expect(try node.quarantined().map(\.id) == [poison.id])
        let suspension = try #require(try node.suspensions().first)
        #expect(suspension.building == neighbour.publicKey && suspension.until == clock.nowMillis() + CrashJournal.suspension)
        // A second start after this one's clean stop sets nothing more aside.
        try next.started(shownRow: node.store.lastRowID())
        next.stopped()
        #expect(try CrashJournal(path: node.crashJournalPath).recover(node, now: clock.nowMillis()) == nil)
        // The admin releases it: the ordinary checks apply, and it is stored again.
        let report = try node.release([poison.id])
        #expect(report.accepted == [poison.id])
        #expect(try node.quarantined().isEmpty)
        // Quarantine and suspensions end with the envelope's life and the suspension's.
        clock.advance(by: CrashJournal.suspension)
        #expect(try node.suspensions().isEmpty)
    }

    @Test("the screen moves the shown row forward once the playlist and its schedule are computed")
    func screenMovesTheShownRow() async throws {
        let node = try makeNode()
        let journal = try CrashJournal(path: node.crashJournalPath)
        try journal.started(shownRow: 0)
        _ = try neighbourPost(node, title: "Vélo trouvé")
        #expect(try node.store.lastRowID() > 0)
        let hub = FeedHub(store: node.store, buildingName: "Les Tilleuls", clock: clock, shown: { journal.shown(upToRow: $0) })
        await hub.markShown()
        #expect(journal.leftover()?.shownRow == 0, "nothing is shown before the first playlist")
        try await hub.refresh()
        #expect(journal.leftover()?.shownRow == 0, "a refreshed playlist is not yet shown: its schedule comes next")
        await hub.markShown()
        #expect(journal.leftover()?.shownRow == (try node.store.lastRowID()))
        #expect(try CrashJournal(path: node.crashJournalPath).recover(node, now: clock.nowMillis())?.quarantined == [])
    }
}
