import PalierCore
import PalierStore

/// Onion addresses (docs/protocol.md §13.4): each building signs where its sync port answers as
/// an onion service; nodes hand the signed statements to the peers that take them, keep the
/// newest of each building and pass on what was new to them. The engine checks and stores; the
/// service dials what it learns (``SyncOutput/learnedOnion(_:)``).
extension SyncEngine {
    /// A signed address issued further ahead of this node's clock is not kept: it would hide a
    /// building's later addresses until that time.
    static let onionFutureAllowance: UInt64 = 600_000

    /// Every onion address to give a peer that has just said hello: this node's own and those
    /// it holds, except the peer's own (it knows where it is).
    func onionAddresses(for peer: PeerID) -> [SyncOutput] {
        guard let session = sessions[peer], session.features.contains(.onionAddresses) else { return [] }
        var all = configuration.onion.map { [$0] } ?? []
        if let held = storeRead({ () throws(StoreError) in try store.onionAnnouncements() }) {
            all += held.filter { $0.building != session.remote && $0.building != building }
        }
        return send(all, to: peer)
    }

    /// Sends `announcements` in messages of at most 256.
    private func send(_ announcements: [OnionAnnouncement], to peer: PeerID) -> [SyncOutput] {
        stride(from: 0, to: announcements.count, by: SyncProtocol.maximumOnionAnnouncements).map {
            .send(peer, .onionAddresses(Array(announcements[$0..<min($0 + SyncProtocol.maximumOnionAnnouncements, announcements.count)])))
        }
    }

    /// Announcements a peer sent: all must be signed by their building (one that is not ends the
    /// session: a node passes on only what it checked); the new ones are kept, passed on to the
    /// other peers that take them, and reported to the service.
    func receiveOnionAddresses(_ announcements: [OnionAnnouncement], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard let sender = sessions[peer]?.remote else { return [] }
        if let forged = announcements.first(where: { !$0.isSigned(by: crypto) }) {
            statistics.onionAddressesRefused += 1
            return [.close(peer, .protocolViolation, "an onion address for \(forged.building.shortText) not signed by that building", backOff: true)]
        }
        var learned: [OnionAnnouncement] = []
        for announcement in announcements where announcement.building != building {
            guard announcement.issued <= now &+ Self.onionFutureAllowance else {
                statistics.onionAddressesRefused += 1
                continue
            }
            do {
                if try store.recordOnionAnnouncement(announcement, learnedFrom: sender, now: now) { learned.append(announcement) }
            } catch {
                recordStoreFailure(error)
            }
        }
        guard !learned.isEmpty else { return [] }
        statistics.onionAddressesLearned += learned.count
        var out = learned.map(SyncOutput.learnedOnion)
        for other in sessions.keys.sorted() where other != peer && sessions[other]!.features.contains(.onionAddresses) {
            let remote = sessions[other]!.remote
            out += send(learned.filter { $0.building != remote }, to: other)
        }
        return out
    }

    /// The round trip measured with `peer` by the last answered ping, in milliseconds.
    public func roundTrip(_ peer: PeerID) -> UInt64? { sessions[peer]?.roundTrip }

    /// A pong: when it answers this side's last ping, the round trip is measured.
    func receivePong(_ nonce: UInt64, from peer: PeerID, now: UInt64) {
        guard let sent = sessions[peer]?.pingSent, sent == nonce, now >= sent else { return }
        sessions[peer]?.roundTrip = now - sent
        sessions[peer]?.pingSent = nil
    }

    /// A ping whose pong measures the round trip.
    func ping(_ peer: PeerID, now: UInt64) -> SyncOutput {
        sessions[peer]?.pingSent = now
        return send(.ping(now), to: peer, now: now)
    }

    /// How long a want may wait for its answer from `peer`: the configured time, and four round
    /// trips more on a slow path (an onion circuit's round trip takes seconds).
    func wantDeadline(_ peer: PeerID, now: UInt64) -> UInt64 {
        let slack = (sessions[peer]?.roundTrip ?? 0).multipliedReportingOverflow(by: 4)
        return now.addingReportingOverflow(configuration.wantTimeout).partialValue &+ (slack.overflow ? 0 : slack.partialValue)
    }
}
