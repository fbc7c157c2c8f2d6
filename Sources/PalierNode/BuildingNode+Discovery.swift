import Foundation
import Logging
import PalierCore
import PalierCrypto
import PalierDiscovery

extension BuildingNode {
    /// Where a running node keeps its discovery status, one sentence, for `palier status`.
    public var discoveryStatusFile: URL { runtimeDirectory.appendingPathComponent("discovery.status") }

    /// Why `palier run` does not use local discovery, in one sentence; nil when it does.
    public func discoveryOffReason() throws(NodeError) -> String? {
        if let reason = try syncOffReason() { return L("sync is off (\(reason))", "la synchronisation est désactivée (\(reason))") }
        if !configuration.sync.discovery { return L("sync.discovery is false in config.json", "sync.discovery vaut false dans config.json") }
        return nil
    }

    /// Where local discovery stands, in one plain sentence.
    public func discoveryState() throws(NodeError) -> String {
        if let reason = try discoveryOffReason() { return L("Local discovery is off because \(reason).", "La découverte locale est désactivée, car \(reason).") }
        guard directory.runningNodePID() != nil else {
            return L("Local discovery starts with palier run, through the system's avahi-daemon.", "La découverte locale démarre avec palier run, par l'avahi-daemon du système.")
        }
        return StatusFile.read(discoveryStatusFile) ?? DiscoveryStatus.starting.sentence
    }

    /// The mDNS discovery `palier run` uses, or nil when it is off. Its status goes to
    /// ``discoveryStatusFile`` as it changes.
    func localDiscovery(networkKey: NetworkKey, logger: Logger) throws(NodeError) -> AvahiDiscovery? {
        guard try discoveryOffReason() == nil else { return nil }
        let record = DiscoveryRecord(building: building, networkID: networkKey.id, name: configuration.buildingName,
                                     residentsPort: configuration.residents.port > 0 ? configuration.residents.port : nil,
                                     runID: DiscoveryRecord.newRunID())
        let file = discoveryStatusFile
        let write: @Sendable (DiscoveryStatus) -> Void = { status in
            StatusFile.write(status.sentence, to: file, what: "discovery status", logger: logger)
        }
        write(.starting)
        return AvahiDiscovery(record: record, logger: logger, onStatus: write)
    }
}
