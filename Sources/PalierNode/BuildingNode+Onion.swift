import Foundation
import Logging
import PalierCore
import PalierCrypto
import PalierStore
import PalierSync

extension BuildingNode {
    /// This node's onion service key (mode 0600, created once, never overwritten): its onion
    /// address. Not the building key.
    public var onionKeyFile: URL { directory.root.appendingPathComponent("onion.key") }

    /// Where a running node keeps its onion federation status, one sentence, for `palier status`.
    public var onionStatusFile: URL { runtimeDirectory.appendingPathComponent("onion.status") }

    /// Where tor's programs are looked for when `sync.onion` is left out.
    static let torPrograms = ["/usr/sbin/tor", "/usr/bin/tor", "/usr/local/bin/tor"]

    /// Why `palier run` does not federate through onion services, in one sentence; nil when it does.
    public func onionOffReason() throws(NodeError) -> String? { try onionOffReason(torPrograms: Self.torPrograms) }

    func onionOffReason(torPrograms: [String]) throws(NodeError) -> String? {
        if let reason = try syncOffReason() { return L("sync is off (\(reason))", "la synchronisation est désactivée (\(reason))") }
        switch configuration.sync.onion {
        case false?:
            return L("sync.onion is false in config.json", "sync.onion vaut false dans config.json")
        case true?:
            return nil
        case nil:
            let control = configuration.sync.onionControl
            let torHere = FileManager.default.fileExists(atPath: control) || torPrograms.contains { FileManager.default.isExecutableFile(atPath: $0) }
            return torHere ? nil : L("tor is not installed here (apt install tor, then restart palier, to federate with buildings beyond the local network)", "tor n'est pas installé ici (apt install tor, puis redémarrez palier, pour se fédérer avec les immeubles au-delà du réseau local)")
        }
    }

    /// Where onion federation stands, in one plain sentence.
    public func onionState() throws(NodeError) -> String {
        if let reason = try onionOffReason() { return L("Onion federation is off because \(reason).", "La fédération via Tor est désactivée, car \(reason).") }
        guard directory.runningNodePID() != nil else {
            return L("Onion federation starts with palier run, through the system's tor (\(configuration.sync.onionControl)).", "La fédération via Tor démarre avec palier run, par le tor du système (\(configuration.sync.onionControl)).")
        }
        let known: Int
        do { known = try store.onionAddressCount() } catch { throw .wrap(error) }
        let count = known == 0 ? "" : " " + L("Onion addresses known: \(known) neighbouring building\(known == 1 ? "" : "s").",
                                             "Adresses onion connues : \(known) immeuble\(known == 1 ? "" : "s") voisin\(known == 1 ? "" : "s").")
        return (StatusFile.read(onionStatusFile) ?? OnionStatus.starting.sentence) + count
    }

    /// The onion service key, created at first use.
    func onionKey() throws(NodeError) -> OnionServiceKey {
        do { return try OnionServiceKey.loadOrCreate(onionKeyFile.path).key } catch { throw .wrap(error) }
    }

    /// Where neighbours reach this node through tor, for invites; nil when onion federation is off.
    public func ownOnionEndpoint() throws(NodeError) -> Invite.Endpoint? {
        guard try onionOffReason() == nil, let port = UInt16(exactly: configuration.sync.port), port > 0 else { return nil }
        return Invite.Endpoint(address: try onionKey().address, port: port)
    }

    /// The invite string for neighbours: the network key, and this node's onion address when it
    /// federates through tor.
    public func invite() throws(NodeError) -> Invite? {
        guard let key = try networkKey() else { return nil }
        return Invite(networkKey: key, onion: try ownOnionEndpoint())
    }

    /// Records for `palier status` that onion federation could not start at all (its key file
    /// cannot be read): not retried until the next start.
    func writeOnionOff(because reason: String, logger: Logger) {
        let sentence = L("Onion federation is off until palier is restarted, because \(reason)", "La fédération via Tor est désactivée jusqu'au redémarrage de palier, car \(reason)")
        StatusFile.write(sentence, to: onionStatusFile, what: "onion status", logger: logger)
    }

    /// The onion transport `palier run` adds to TCP, and this building's signed address; nil when
    /// onion federation is off. Its status goes to ``onionStatusFile`` as it changes.
    func onionTransport(networkKey: NetworkKey, logger: Logger) throws(NodeError) -> (OnionTransport, OnionAnnouncement)? {
        // A previous run's status is not this run's.
        if FileManager.default.fileExists(atPath: onionStatusFile.path) {
            do { try FileManager.default.removeItem(at: onionStatusFile) } catch {
                logger.warning("could not remove the previous onion status", metadata: ["file": "\(onionStatusFile.path)", "error": "\(error)"])
            }
        }
        guard let endpoint = try ownOnionEndpoint() else { return nil }
        var settings = OnionTransport.Settings(
            control: configuration.sync.onionControl, virtualPort: endpoint.port, key: try onionKey(),
            clientAuthorisation: configuration.sync.onionMembersOnly ? networkKey.onionClientAuthorisation : nil)
        let file = onionStatusFile
        let transport = OnionTransport(settings: settings, logger: logger) { status in
            StatusFile.write(status.sentence, to: file, what: "onion status", logger: logger)
        }
        let announcement = buildingKey.announce(endpoint.address, port: endpoint.port, now: now())
        return (transport, announcement)
    }
}
