import Foundation
import PalierCore
import PalierImaging
import PalierFeed
import PalierCrypto
import PalierDiscovery
import PalierStore
import PalierSync
import Logging

extension BuildingNode {
    /// Where the network key lives (mode 0600).
    public var networkKeyFile: URL { directory.root.appendingPathComponent("network.key") }

    /// The neighbourhood network this node belongs to; nil when it belongs to none yet.
    public func networkKey() throws(NodeError) -> NetworkKey? {
        do {
            return try NetworkKey.load(networkKeyFile.path)
        } catch where error == .notFound(networkKeyFile.path) {
            return nil
        } catch {
            throw .wrap(error)
        }
    }

    /// Starts a new neighbourhood network (a fresh key). Refuses to leave the current one
    /// unless `replace`.
    @discardableResult
    public func createNetwork(replace: Bool = false) throws(NodeError) -> NetworkKey {
        try setNetwork(NetworkKey.generate(), replace: replace)
    }

    /// Joins the network an invite string names. Refuses to leave the current one unless
    /// `replace`. The inviting building's onion address, when the invite has one, is kept and
    /// dialled through tor (a building with no other way to its neighbours starts there).
    /// Returns the invite as read.
    @discardableResult
    public func joinNetwork(invite text: String, replace: Bool = false) throws(NodeError) -> Invite {
        let invite: Invite
        do { invite = try Invite(text: text) } catch { throw NodeError(.invalidInvite(error)) }
        let previous = try networkKey()
        let key = try setNetwork(invite.networkKey, replace: replace)
        do {
            // Another network's buildings are not this one's.
            if let previous, previous != key { try store.forgetOnionAddresses() }
            if let onion = invite.onion { try store.addIntroduction(onion.text, now: now()) }
        } catch { throw .wrap(error) }
        return invite
    }

    private func setNetwork(_ key: NetworkKey, replace: Bool) throws(NodeError) -> NetworkKey {
        if let current = try networkKey() {
            if current == key { return key }
            guard replace else { throw NodeError(.networkExists(current.id)) }
            // Write the new key beside the old, then swap: never a moment with no valid file.
            let fresh = networkKeyFile.path + ".new"
            unlink(fresh)
            do { try key.save(fresh) } catch { throw .wrap(error) }
            guard rename(fresh, networkKeyFile.path) == 0 else {
                throw NodeError(.io("The network key \(networkKeyFile.path) could not be replaced: \(String(cString: strerror(errno)))."))
            }
            return key
        }
        do { try key.save(networkKeyFile.path) } catch { throw .wrap(error) }
        return key
    }

    /// Follows (shows on this screen), blocks (refuses and never relays), or forgets a stance
    /// towards another building. `kinds`: for a follow, the kinds of its posts shown here (nil:
    /// ``FederationPolicy/defaultFollowedKinds``).
    public func setStance(_ stance: BuildingStance?, for building: PublicKey, kinds: Set<Kind>? = nil) throws(NodeError) {
        guard building != self.building else { throw NodeError(.ownBuilding) }
        do { try store.setStance(stance, for: building, kinds: kinds, now: now()) } catch { throw .wrap(error) }
        RunningNodeSignal.storeChanged(controlSocket: controlSocketPath)
    }

    public func federationPolicy() throws(NodeError) -> FederationPolicy {
        do { return try store.federationPolicy() } catch { throw .wrap(error) }
    }

    /// Buildings this node has synced with, and those followed or blocked.
    public func peers() throws(NodeError) -> [PeerRecord] {
        do { return try store.peers() } catch { throw .wrap(error) }
    }
}

extension BuildingNode {
    /// Where a running node writes what went wrong with its store during sync, for `palier status`.
    public var syncStatusFile: URL { runtimeDirectory.appendingPathComponent("sync.status") }

    /// Where a running node writes that it met another node under its own key.
    public var sameKeyStatusFile: URL { runtimeDirectory.appendingPathComponent("same-key.status") }

    /// The running node's warning that another node runs under this building's key; nil when
    /// it met none since it started.
    public func sameKeyWarning() -> String? {
        directory.runningNodePID() == nil ? nil : StatusFile.read(sameKeyStatusFile)
    }

    /// The running node's sentence about store failures during sync; nil when there were none.
    public func syncStoreFailures() -> String? {
        directory.runningNodePID() == nil ? nil : StatusFile.read(syncStatusFile)
    }

    /// Why `palier run` does not federate, in one sentence; nil when it does.
    public func syncOffReason() throws(NodeError) -> String? {
        if configuration.sync.port == 0 { return L("sync.port is 0 in config.json", "sync.port vaut 0 dans config.json") }
        if try networkKey() == nil { return L("this node belongs to no network (palier network create, or join)", "ce nœud n'appartient à aucun réseau (palier network create, ou join)") }
        return nil
    }

    /// The sync service `palier run` starts, or nil when sync is off (see ``syncOffReason()``):
    /// TCP on the configured address and mDNS unless `transports` and `discoveries` are given.
    func syncService(logger: Logger, journal: (any MessageJournal)?, transports: [any SyncTransport]?, discoveries: [any Discovery]?,
                     tune: (@Sendable (inout SyncSettings) -> Void)?) throws(NodeError) -> SyncService? {
        guard try syncOffReason() == nil, let networkKey = try networkKey() else { return nil }
        let settings = configuration.sync
        var engine = SyncEngine.Configuration(name: configuration.buildingName)
        engine.reconcileInterval = UInt64(max(settings.reconcileSeconds, 1)) * 1000
        engine.blobBudget = configuration.blobs.budgetBytes
        // TCP on the configured address, and onion services through the system's tor when on.
        var transports = transports
        if transports == nil {
            transports = [TCPTransport(host: settings.listen, port: settings.port)]
            do {
                if let (onion, announcement) = try onionTransport(networkKey: networkKey, logger: logger) {
                    transports?.append(onion)
                    engine.onion = announcement
                }
            } catch {
                // The screen and the other ways to neighbours work on; the admin reads why.
                logger.error("onion federation is off", metadata: ["error": "\(error)"])
                writeOnionOff(because: error.description, logger: logger)
            }
        }
        var syncSettings = SyncSettings(listenHost: settings.listen, port: settings.port, staticPeers: settings.staticPeers, engine: engine)
        syncSettings.blobCheck = { bytes, record in ImageProcessor.check(bytes, type: record.type, width: record.width, height: record.height) }
        syncSettings.journal = journal
        let file = syncStatusFile
        let sameKeyFile = sameKeyStatusFile
        // A previous run's figures are not this run's.
        for file in [file, sameKeyFile] where FileManager.default.fileExists(atPath: file.path) {
            do { try FileManager.default.removeItem(at: file) } catch {
                logger.warning("could not remove the previous sync status", metadata: ["file": "\(file.path)", "error": "\(error)"])
            }
        }
        let clock = self.clock
        syncSettings.onSameKeyElsewhere = { address in
            let sentence = L("Another node runs under this building's key (met at \(address), \(TimeSpec.format(clock.nowMillis()))): "
                + "stop one of them. Two nodes with one key split the building's posts and neighbours cannot tell them apart.", "Un autre nœud tourne sous la clé de cet immeuble (rencontré à \(address), le \(TimeSpec.format(clock.nowMillis()))) : "
                + "arrêtez l'un des deux. Deux nœuds sous une même clé se partagent les publications de l'immeuble et les voisins ne peuvent pas les distinguer.")
            StatusFile.write(sentence, to: sameKeyFile, what: "sync status", logger: logger)
        }
        tune?(&syncSettings)
        syncSettings.onStoreFailures = { statistics in
            StatusFile.write(Self.storeFailureSentence(statistics), to: file, what: "sync status", logger: logger)
        }
        let discoveries: [any Discovery] = if let discoveries { discoveries } else {
            try localDiscovery(networkKey: networkKey, logger: logger).map { [$0] } ?? []
        }
        do {
            return try SyncService(
                settings: syncSettings, signingKey: buildingKey, networkKey: networkKey, store: store, clock: clock,
                logger: logger, discoveries: discoveries, transports: transports)
        } catch { throw .wrap(error) }
    }

    /// What `palier status` says of the store failures during sync.
    static func storeFailureSentence(_ statistics: SyncStatistics) -> String {
        let cause = statistics.lastStoreFailure ?? "unknown cause"
        guard statistics.envelopesNotStored > 0 else {
            let count = statistics.storeFailures
            return "\(count) store access\(count == 1 ? "" : "es") failed during sync since the node started (last: \(cause)); neighbours offer what was missed again."
        }
        let count = statistics.envelopesNotStored
        let then = statistics.writesFailing
            ? "They are asked for again once the store accepts writes."
            : "The store accepts writes again; they are fetched at the next rounds."
        return "\(count) envelope\(count == 1 ? "" : "s") from neighbours could not be stored since the node started (last: \(cause)). \(then)"
    }
}

extension BuildingNode {
    /// The building `text` names: its full key, an unambiguous prefix of its key as `palier
    /// peers` shows it (at least 4 characters, dashes and case aside), or its name (case,
    /// accents and spaces aside), among the buildings this node knows: peers met, profiles
    /// received, buildings followed or blocked.
    public func building(named text: String) throws(NodeError) -> PublicKey {
        if let key = try? PublicKey(text: text) { return key }
        var known: [PublicKey: String] = [:]
        do {
            for peer in try store.peers() { known[peer.building] = peer.name }
            for (key, name) in try store.profileNames(now: now()) where known[key]?.isEmpty ?? true { known[key] = name }
            let policy = try store.federationPolicy()
            for key in policy.followed.union(policy.blocked) where known[key] == nil { known[key] = "" }
        } catch { throw .wrap(error) }
        known[building] = nil
        let compact = { (s: String) in s.lowercased().filter { $0 != "-" && !$0.isWhitespace } }
        let wanted = compact(text)
        let folded = ScreenText.folded(text)
        let byKey = wanted.count >= 4 ? known.keys.filter { compact($0.text).hasPrefix(wanted) } : []
        let byName = folded.isEmpty ? [] : known.filter { !$0.value.isEmpty && ScreenText.folded($0.value) == folded }.map(\.key)
        let matches = Set(byKey + byName)
        guard let match = matches.first else { throw NodeError(.unknownBuilding(text)) }
        guard matches.count == 1 else {
            throw NodeError(.ambiguousBuilding(text, matches.sorted().map { "\($0.shortText)… \(known[$0] ?? "")" }))
        }
        return match
    }
}
