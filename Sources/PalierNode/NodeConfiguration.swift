import Foundation
import PalierCore

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

    public init(buildingName: String, address: String = "", latitude: Double? = nil, longitude: Double? = nil) {
        self.buildingName = buildingName
        self.address = address
        self.latitude = latitude
        self.longitude = longitude
    }

    /// The building's profile as signed into the store.
    public var profile: BuildingProfile {
        let coordinates = latitude.flatMap { lat in longitude.map { Coordinates(latitude: lat, longitude: $0) } }
        return BuildingProfile(name: buildingName, address: address, coordinates: coordinates)
    }

    static func load(from url: URL) throws(NodeError) -> NodeConfiguration {
        do {
            let data = try Data(contentsOf: url)
            return try JSONDecoder().decode(NodeConfiguration.self, from: data)
        } catch {
            throw NodeError(.configuration("The configuration \(url.path) could not be read: \(error.localizedDescription)."))
        }
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
