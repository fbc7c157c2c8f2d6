import Foundation
import PalierCore
import PalierDiscovery
import PalierFeed

/// The node's settings, stored as `config.json` in its data directory.
public struct NodeConfiguration: Codable, Sendable, Hashable {
    /// The configuration format; bumped on incompatible changes.
    public var version: Int = 1
    /// The building's name as neighbours and screens see it.
    public var buildingName: String
    public var address: String
    public var latitude: Double?
    public var longitude: Double?
    /// Store file, relative to the data directory unless absolute.
    public var storeFile: String = "palier.sqlite"
    /// Building key file, relative to the data directory unless absolute.
    public var buildingKeyFile: String = "building.key"
    /// The elevator screen's feed and kiosk page.
    public var feed = FeedSettings()
    /// Federation with neighbouring buildings.
    public var sync = SyncConfiguration()
    /// The residents' channel: residents post from their own machines.
    public var residents = ResidentsConfiguration()
    /// The node's figures for Prometheus, on loopback.
    public var metrics = MetricsConfiguration()
    /// Images of posts.
    public var blobs = BlobsConfiguration()

    public init(buildingName: String, address: String = "", latitude: Double? = nil, longitude: Double? = nil) {
        self.buildingName = buildingName
        self.address = address
        self.latitude = latitude
        self.longitude = longitude
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, buildingName, address, latitude, longitude, storeFile, buildingKeyFile, feed, sync, residents, metrics, blobs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 1
        buildingName = try c.decode(String.self, forKey: .buildingName)
        address = try c.decodeIfPresent(String.self, forKey: .address) ?? ""
        latitude = try c.decodeIfPresent(Double.self, forKey: .latitude)
        longitude = try c.decodeIfPresent(Double.self, forKey: .longitude)
        storeFile = try c.decodeIfPresent(String.self, forKey: .storeFile) ?? "palier.sqlite"
        buildingKeyFile = try c.decodeIfPresent(String.self, forKey: .buildingKeyFile) ?? "building.key"
        feed = try c.decodeIfPresent(FeedSettings.self, forKey: .feed) ?? FeedSettings()
        sync = try c.decodeIfPresent(SyncConfiguration.self, forKey: .sync) ?? SyncConfiguration()
        residents = try c.decodeIfPresent(ResidentsConfiguration.self, forKey: .residents) ?? ResidentsConfiguration()
        metrics = try c.decodeIfPresent(MetricsConfiguration.self, forKey: .metrics) ?? MetricsConfiguration()
        blobs = try c.decodeIfPresent(BlobsConfiguration.self, forKey: .blobs) ?? BlobsConfiguration()
    }

    /// The building's profile as signed into the store.
    public var profile: BuildingProfile {
        // Out-of-range coordinates never get here: `validate()` refuses them.
        let coordinates = latitude.flatMap { lat in longitude.flatMap { Coordinates(latitude: lat, longitude: $0) } }
        return BuildingProfile(name: buildingName, address: address, coordinates: coordinates)
    }

    /// The version of config.json this palier reads and writes.
    public static let currentVersion = 1

    /// Reads config.json strictly: invalid JSON, an unknown key, a wrong type, a value out of
    /// its range or another version are refused with the line and what is allowed.
    static func load(from url: URL) throws(NodeError) -> NodeConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NodeError(.configuration("The configuration \(url.path) could not be read: \(error.localizedDescription)."))
        }
        return try parse(data, path: url.path)
    }

    /// `data` as config.json (`path` names it in messages).
    static func parse(_ data: Data, path: String) throws(NodeError) -> NodeConfiguration {
        let text = String(decoding: data, as: UTF8.self)
        func refuse(_ keyPath: [String], _ message: String) -> NodeError {
            let line = ConfigurationText.line(of: keyPath, in: text)
            return NodeError(.configuration(L("The configuration \(path)\(line.map { " (line \($0))" } ?? "") is not valid: \(message).", "Les réglages \(path)\(line.map { " (ligne \($0))" } ?? "") ne sont pas valides : \(message).")))
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            let line = ConfigurationText.errorLine(error, in: text)
            throw NodeError(.configuration(L("The configuration \(path)\(line.map { " (line \($0))" } ?? "") is not valid JSON: "
                + "look for a missing comma or quote, or an extra comma before } or ].", "Les réglages \(path)\(line.map { " (ligne \($0))" } ?? "") ne sont pas du JSON valide : "
                + "cherchez une virgule ou un guillemet manquant, ou une virgule en trop avant } ou ].")))
        }
        guard let root = object as? [String: Any] else { throw refuse([], L("it must be one JSON object, { … }", "il faut un seul objet JSON, { … }")) }
        if let (keyPath, allowed) = ConfigurationText.unknownKey(in: root) {
            let section = keyPath.dropLast().joined(separator: ".")
            let suggestion = allowed.first { $0.lowercased() == keyPath.last!.lowercased() }.map { L(" (did you mean \"\($0)\"?)", " (vouliez-vous dire \"\($0)\" ?)") } ?? ""
            throw refuse(keyPath, L("unknown key \"\(keyPath.last!)\"\(section.isEmpty ? "" : " in \(section)")\(suggestion); "
                + "the keys\(section.isEmpty ? "" : " of \(section)") are \(allowed.joined(separator: ", ")) (docs/configuration.md)", "clé inconnue \"\(keyPath.last!)\"\(section.isEmpty ? "" : " dans \(section)")\(suggestion) ; "
                + "les clés\(section.isEmpty ? "" : " de \(section)") sont \(allowed.joined(separator: ", ")) (docs/configuration.md)"))
        }
        if let version = root["version"] as? Int, version != currentVersion {
            throw refuse(["version"], L("its version is \(version); this palier reads version \(currentVersion)", "sa version est \(version) ; cette version de palier lit la version \(currentVersion)"))
        }
        let configuration: NodeConfiguration
        do {
            configuration = try JSONDecoder().decode(NodeConfiguration.self, from: data)
        } catch let error as DecodingError {
            let (keyPath, message) = ConfigurationText.describe(error)
            throw refuse(keyPath, message)
        } catch {
            throw refuse([], "\(error)")
        }
        if let (keyPath, problem) = configuration.problemWithKey {
            throw refuse(keyPath, problem)
        }
        return configuration
    }

    /// The numbers of the configuration and their ranges. Every one of them ends up in
    /// arithmetic or a conversion (a port to 16 bits, days to milliseconds, degrees to
    /// microdegrees): a value outside its range is refused here rather than wrapped or trapped.
    static let ranges: [@Sendable (NodeConfiguration) -> (keyPath: [String], problem: String)?] = [
        { check("latitude", $0.latitude, -90...90) },
        { check("longitude", $0.longitude, -180...180) },
        { check("feed.kioskPort", $0.feed.kioskPort, 0...65535) },
        { check("feed.promoShare", $0.feed.promoShare, 0...0.95) },
        { check("feed.eventLeadDays", $0.feed.eventLeadDays, 0...90) },
        { check("sync.port", $0.sync.port, 0...65535) },
        { check("sync.reconcileSeconds", $0.sync.reconcileSeconds, 1...86_400) },
        { check("residents.port", $0.residents.port, 0...65535) },
        { check("metrics.port", $0.metrics.port, 0...65535) },
        { check("blobs.budgetMiB", $0.blobs.budgetMiB, 0...1_048_576) },
    ]

    private static func check<T: Comparable>(_ key: String, _ value: T?, _ range: ClosedRange<T>) -> (keyPath: [String], problem: String)? {
        guard let value, !range.contains(value) else { return nil }
        return (key.split(separator: ".").map(String.init), L("\(key) is \(text(value)), it must lie between \(text(range.lowerBound)) and \(text(range.upperBound))", "\(key) vaut \(text(value)), il doit être compris entre \(text(range.lowerBound)) et \(text(range.upperBound))"))
    }

    /// Numbers as people write them: 5, not 5.0.
    private static func text(_ value: some Comparable) -> String {
        guard let double = value as? Double, double == double.rounded(), abs(double) < 1e15 else { return "\(value)" }
        return String(Int64(double))
    }

    /// The first value out of its range, as a sentence fragment; nil when all are in range.
    public var problem: String? { problemWithKey?.problem }

    /// The first value out of its range and where it is (`["feed", "kioskPort"]`).
    var problemWithKey: (keyPath: [String], problem: String)? {
        if let problem = Self.ranges.lazy.compactMap({ $0(self) }).first { return problem }
        if (latitude == nil) != (longitude == nil) { return (["latitude"], L("latitude and longitude must be given together", "latitude et longitude vont ensemble")) }
        if buildingName.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return (["buildingName"], L("buildingName must not be empty", "buildingName ne doit pas être vide")) }
        if let panel = feed.panel {
            if (panel.caretaker ?? "").count > 200 { return (["feed", "panel", "caretaker"], L("feed.panel.caretaker is over 200 characters", "feed.panel.caretaker dépasse 200 caractères")) }
            if panel.emergency.count > 8 { return (["feed", "panel", "emergency"], L("feed.panel.emergency has \(panel.emergency.count) numbers; a screen shows at most 8", "feed.panel.emergency compte \(panel.emergency.count) numéros ; un écran en affiche 8 au plus")) }
            if let long = panel.emergency.first(where: { $0.label.count > 40 || $0.number.count > 30 }) {
                return (["feed", "panel", "emergency"], L("the emergency number \"\(long.label)\" is too long (label at most 40 characters, number at most 30)", "le numéro d'urgence \"\(long.label)\" est trop long (libellé de 40 caractères au plus, numéro de 30 au plus)"))
            }
        }
        if !KioskPage.languages.contains(feed.language) {
            return (["feed", "language"], L("feed.language is \"\(feed.language)\"; the screen speaks \(KioskPage.languages.map { "\"\($0)\"" }.joined(separator: " or "))", "feed.language vaut \"\(feed.language)\" ; l'écran parle \(KioskPage.languages.map { "\"\($0)\"" }.joined(separator: " ou "))"))
        }
        if let name = sync.staticPeers.first(where: { Endpoint($0) == nil }) {
            return (["sync", "staticPeers"], L("sync.staticPeers holds \"\(name)\", which is not host:port", "sync.staticPeers contient \"\(name)\", qui n'est pas de la forme hôte:port"))
        }
        if let name = residents.publicAddresses.first(where: { Endpoint($0) == nil }) {
            return (["residents", "publicAddresses"], L("residents.publicAddresses holds \"\(name)\", which is not host:port", "residents.publicAddresses contient \"\(name)\", qui n'est pas de la forme hôte:port"))
        }
        return nil
    }

    func write(to url: URL) throws(NodeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw NodeError(.io("The configuration \(url.path) could not be written: \(error.localizedDescription)."))
        }
    }
}

/// Settings of the elevator screen's feed (docs/feed.md). Every key may be left out of
/// config.json; the defaults apply.
public struct FeedSettings: Codable, Sendable, Hashable {
    /// Directory of the feed and control sockets, relative to the data directory unless
    /// absolute. Mode 0750.
    public var runtimeDirectory = "run"
    /// Group owning the runtime directory and the feed socket (mode 0660): screens run as a
    /// member of it. nil: the node's own group.
    public var group: String?
    /// Port of the kiosk page on 127.0.0.1; 0 turns the page off.
    public var kioskPort = 7480
    /// Largest share of screen time for merchants' promos.
    public var promoShare = 0.2
    /// Days before its start an event appears on the screen.
    public var eventLeadDays = 7
    /// The screen's language: "fr" (the default) or "en"; dates and times follow it.
    public var language = "fr"
    /// Names the kiosk page may be reached by besides 127.0.0.1, localhost and [::1] (a
    /// screen on the local network that opens `http://node-name:7480/`).
    public var kioskHostNames: [String] = []
    /// The building's panel (caretaker, emergency numbers) on a quiet or empty screen.
    public var panel: KioskPanel?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case runtimeDirectory, group, kioskPort, promoShare, eventLeadDays, language, kioskHostNames, panel }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runtimeDirectory = try c.decodeIfPresent(String.self, forKey: .runtimeDirectory) ?? "run"
        group = try c.decodeIfPresent(String.self, forKey: .group)
        kioskPort = try c.decodeIfPresent(Int.self, forKey: .kioskPort) ?? 7480
        promoShare = try c.decodeIfPresent(Double.self, forKey: .promoShare) ?? 0.2
        eventLeadDays = try c.decodeIfPresent(Int.self, forKey: .eventLeadDays) ?? 7
        language = try c.decodeIfPresent(String.self, forKey: .language) ?? "fr"
        kioskHostNames = try c.decodeIfPresent([String].self, forKey: .kioskHostNames) ?? []
        panel = try c.decodeIfPresent(KioskPanel.self, forKey: .panel)
    }
}

/// Settings of federation (docs/protocol.md, part 2). Every key may be left out of config.json.
public struct SyncConfiguration: Codable, Sendable, Hashable {
    /// Address the sync port listens on: "0.0.0.0" (the local network) or "127.0.0.1".
    public var listen = "0.0.0.0"
    /// TCP port of the sync protocol; 0 turns sync off.
    public var port = 7481
    /// Neighbouring nodes to dial, as "host:port", besides those discovery finds.
    public var staticPeers: [String] = []
    /// Seconds between two reconciliation rounds with each peer this node dialled.
    public var reconcileSeconds = 30
    /// Publish this node and find neighbours on the local network through the system's
    /// avahi-daemon (mDNS, docs/protocol.md §13).
    public var discovery = true
    /// Federate through a Tor onion service of the system's tor (docs/protocol.md §13.4):
    /// true, false, or left out (null): on when tor is installed on this machine.
    public var onion: Bool?
    /// tor's control port: its socket (Debian's tor service: /run/tor/control), or host:port.
    public var onionControl = SyncConfiguration.defaultOnionControl
    /// Publish the onion service for the network's members only (tor's client authorisation,
    /// with a key every member derives from the network key): who is not a member cannot even
    /// reach it.
    public var onionMembersOnly = true

    public static let defaultOnionControl = "/run/tor/control"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case listen, port, staticPeers, reconcileSeconds, discovery, onion, onionControl, onionMembersOnly }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(String.self, forKey: .listen) ?? "0.0.0.0"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 7481
        staticPeers = try c.decodeIfPresent([String].self, forKey: .staticPeers) ?? []
        reconcileSeconds = try c.decodeIfPresent(Int.self, forKey: .reconcileSeconds) ?? 30
        discovery = try c.decodeIfPresent(Bool.self, forKey: .discovery) ?? true
        onion = try c.decodeIfPresent(Bool.self, forKey: .onion)
        onionControl = try c.decodeIfPresent(String.self, forKey: .onionControl) ?? Self.defaultOnionControl
        onionMembersOnly = try c.decodeIfPresent(Bool.self, forKey: .onionMembersOnly) ?? true
    }
}

/// Settings of the residents' channel (docs/protocol.md, part 3). Every key may be left out.
public struct ResidentsConfiguration: Codable, Sendable, Hashable {
    /// Address the residents' port listens on: "0.0.0.0" (the building's network) or "127.0.0.1".
    public var listen = "0.0.0.0"
    /// TCP port of the residents' channel; 0 turns it off (residents then cannot post from
    /// their own machines).
    public var port = ResidentProtocol.defaultPort
    /// Addresses (`host:port`) put in enrolment codes, where residents reach this node; empty:
    /// this machine's own addresses, found when the code is made.
    public var publicAddresses: [String] = []
    /// Which residents' posts wait for an admin's approval.
    public var moderation = Moderation.newMembers

    public enum Moderation: String, Codable, Sendable, Hashable, CaseIterable {
        /// Every post shows at once.
        case none
        /// A member's posts wait until the node holds ``newMemberPosts`` of theirs.
        case newMembers = "new-members"
        /// Every resident's post waits.
        case all

        public static let newMemberPosts = 3
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case listen, port, publicAddresses, moderation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(String.self, forKey: .listen) ?? "0.0.0.0"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? ResidentProtocol.defaultPort
        publicAddresses = try c.decodeIfPresent([String].self, forKey: .publicAddresses) ?? []
        let moderationText = try c.decodeIfPresent(String.self, forKey: .moderation) ?? Moderation.newMembers.rawValue
        guard let moderation = Moderation(rawValue: moderationText) else {
            throw DecodingError.dataCorruptedError(forKey: .moderation, in: c, debugDescription:
                L("residents.moderation is \"\(moderationText)\"; it must be one of \(Moderation.allCases.map(\.rawValue).joined(separator: ", "))", "residents.moderation vaut \"\(moderationText)\" ; il doit être l'un de \(Moderation.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        self.moderation = moderation
    }
}

/// The node's figures in Prometheus's text format (docs/operations.md), served on 127.0.0.1 only.
public struct MetricsConfiguration: Codable, Sendable, Hashable {
    /// Port of `http://127.0.0.1:<port>/metrics`; 0 turns it off.
    public var port = 7483

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case port }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 7483
    }
}

/// Images of posts (docs/protocol.md §2.2.2, §8.1).
public struct BlobsConfiguration: Codable, Sendable, Hashable {
    /// The most room images take on this node, in MiB: posted here or fetched from neighbours.
    /// 0: no image is kept (posts show without theirs).
    public var budgetMiB = 512

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case budgetMiB }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        budgetMiB = try c.decodeIfPresent(Int.self, forKey: .budgetMiB) ?? 512
    }

    /// The budget in bytes.
    public var budgetBytes: Int64 { Int64(budgetMiB) << 20 }
}

extension NodeConfiguration {
    /// Reads and checks `directory`'s config.json strictly, without opening anything else.
    public static func check(_ directory: NodeDirectory) throws(NodeError) -> NodeConfiguration {
        guard directory.isInitialised else { throw NodeError(.notInitialised(directory.root.path)) }
        return try load(from: directory.configurationFile)
    }

    /// Every setting with its effective value (the defaults of keys left out included), as
    /// config.json would hold it.
    public var effectiveJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
