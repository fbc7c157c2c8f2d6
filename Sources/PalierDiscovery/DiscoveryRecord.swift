import PalierCore

/// What a node announces about itself on the local network: the TXT record of its
/// `_palier._tcp` service (docs/protocol.md, §13).
public struct DiscoveryRecord: Hashable, Sendable {
    /// The DNS-SD service type.
    public static let serviceType = "_palier._tcp"
    /// Longest building name carried in the record, in UTF-8 bytes; longer names are cut.
    public static let maximumNameBytes = 100
    /// Longest service instance name (a DNS label), in UTF-8 bytes.
    public static let maximumInstanceNameBytes = 63
    /// Longest single TXT string (`key=value`) a node accepts.
    public static let maximumStringBytes = 255
    /// Most TXT strings a node looks at; a record with more is refused.
    public static let maximumStrings = 32

    /// The highest sync protocol version the node speaks.
    public var version: UInt16
    /// The building's key: the identity its sync sessions prove.
    public var building: PublicKey
    /// The network id: a hash of the network key (never the key), 16 lower-case hex digits.
    public var networkID: String
    /// The building's name, for logs and people; not trusted for anything.
    public var name: String
    /// The port of the node's residents' channel (docs/protocol.md part 3), when it has one:
    /// `res=` in the TXT record, on the same host as the service.
    public var residentsPort: Int?
    /// This run of the node: 16 lower-case hex digits drawn when it starts (`run=`). A record
    /// with this node's key but another run is another node under the same key.
    public var runID: String?

    public init(version: UInt16 = SyncProtocol.version, building: PublicKey, networkID: String, name: String, residentsPort: Int? = nil,
                runID: String? = nil) {
        self.version = version
        self.building = building
        self.networkID = networkID
        self.name = name.prefix(utf8Bytes: Self.maximumNameBytes)
        self.residentsPort = residentsPort.flatMap { (1...65535).contains($0) ? $0 : nil }
        self.runID = runID.flatMap { Self.isRunID($0) ? $0 : nil }
    }

    static func isRunID(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// A new run id.
    public static func newRunID() -> String {
        (0..<8).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }

    /// The TXT strings, in the order they are published.
    public var txt: [String] {
        ["v=\(version)", "pk=\(building.text)", "net=\(networkID)", "name=\(name)"] + (residentsPort.map { ["res=\($0)"] } ?? [])
            + (runID.map { ["run=\($0)"] } ?? [])
    }

    /// The service instance name to publish under: the building name cut to one DNS label.
    public var instanceName: String {
        let cut = name.prefix(utf8Bytes: Self.maximumInstanceNameBytes)
        return cut.isEmpty ? "palier \(building.shortText)" : cut
    }

    /// The first name to try when ``instanceName`` is taken: the building name with the start
    /// of the building key, e.g. "Les Tilleuls (wu4n-plsa)". Two buildings with one name thus
    /// take different alternatives, rather than the same "#2" in step, and people can tell
    /// them apart.
    public var alternativeInstanceName: String {
        let suffix = " (\(building.shortText))"
        return name.prefix(utf8Bytes: Self.maximumInstanceNameBytes - suffix.utf8.count) + suffix
    }

    /// Reads a record from the raw TXT strings of a resolved service. Keys are case-insensitive
    /// and only the first occurrence of a key counts (RFC 6763, §6.4); unknown keys are ignored.
    public init(txt strings: [[UInt8]]) throws(DiscoveryRecordError) {
        guard strings.count <= Self.maximumStrings else { throw .tooManyStrings(strings.count) }
        var values: [String: [UInt8]] = [:]
        for string in strings {
            guard string.count <= Self.maximumStringBytes else { throw .oversized(string.count) }
            let keyEnd = string.firstIndex(of: UInt8(ascii: "=")) ?? string.endIndex
            guard let key = String(validating: string[..<keyEnd], as: UTF8.self)?.lowercased(), !key.isEmpty else { continue }
            let value = keyEnd < string.endIndex ? Array(string[(keyEnd + 1)...]) : []
            if values[key] == nil { values[key] = value }
        }
        func text(_ key: String) throws(DiscoveryRecordError) -> String {
            guard let value = values[key] else { throw .missing(key) }
            guard let text = String(validating: value, as: UTF8.self) else { throw .invalid(key, "not UTF-8") }
            return text
        }
        let versionText = try text("v")
        guard versionText.count <= 5, let version = UInt16(versionText) else { throw .invalid("v", "not a version number") }
        guard version >= SyncProtocol.minimumVersion else { throw .unsupportedVersion(version) }
        let keyText = try text("pk")
        let building: PublicKey
        do { building = try PublicKey(text: keyText) } catch { throw .invalid("pk", "\(error)") }
        let networkID = try text("net")
        guard networkID.utf8.count == 16, networkID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw .invalid("net", "not 16 lower-case hex digits")
        }
        let name = try text("name")
        guard name.utf8.count <= Self.maximumNameBytes else { throw .invalid("name", "longer than \(Self.maximumNameBytes) bytes") }
        // Optional: a value that is not a port leaves it out (sync does not need it).
        let residentsPort = values["res"].flatMap { value in
            value.count <= 5 && value.allSatisfy { (0x30...0x39).contains($0) } ? Int(String(decoding: value, as: UTF8.self)) : nil
        }
        // Optional too: a value that is not a run id leaves it out.
        let runID = values["run"].flatMap { String(validating: $0, as: UTF8.self) }
        self.init(version: version, building: building, networkID: networkID, name: name, residentsPort: residentsPort, runID: runID)
    }
}

/// Why a TXT record was not understood. The service is then ignored (and logged).
public enum DiscoveryRecordError: Error, Hashable, Sendable, CustomStringConvertible {
    case missing(String)
    case invalid(String, String)
    case oversized(Int)
    case tooManyStrings(Int)
    case unsupportedVersion(UInt16)

    public var description: String {
        switch self {
        case .missing(let key): "the TXT record has no \(key) key"
        case .invalid(let key, let why): "the TXT key \(key) is invalid: \(why)"
        case .oversized(let count): "a TXT string is \(count) bytes, more than \(DiscoveryRecord.maximumStringBytes)"
        case .tooManyStrings(let count): "the TXT record has \(count) strings, more than \(DiscoveryRecord.maximumStrings)"
        case .unsupportedVersion(let version): "it speaks sync protocol version \(version), older than this node's \(SyncProtocol.minimumVersion)"
        }
    }
}
