import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PalierCore
import PalierFeed
import PalierCrypto
import PalierStore

/// One building's node as the CLI and `palier run` see it: data directory, configuration,
/// building key and store. Every way of publishing goes through ``publish(_:signedBy:)``, which
/// signs and hands the envelope to the store's single ingest path.
public final class BuildingNode: Sendable {
    public let directory: NodeDirectory
    public let configuration: NodeConfiguration
    public let buildingKey: SigningKey
    public let store: EnvelopeStore
    let clock: any WallClock

    public var building: PublicKey { buildingKey.publicKey }

    init(directory: NodeDirectory, configuration: NodeConfiguration, buildingKey: SigningKey, store: EnvelopeStore, clock: any WallClock) {
        self.directory = directory
        self.configuration = configuration
        self.buildingKey = buildingKey
        self.store = store
        self.clock = clock
    }

    /// Opens an initialised node.
    public static func open(_ directory: NodeDirectory, clock: any WallClock = SystemClock()) throws(NodeError) -> BuildingNode {
        guard directory.isInitialised else { throw .notInitialised(directory.root.path) }
        let configuration = try NodeConfiguration.load(from: directory.configurationFile)
        let key: SigningKey
        do { key = try KeyFile.load(directory.resolve(configuration.buildingKeyFile).path) } catch { throw .wrap(error) }
        let store: EnvelopeStore
        do {
            store = try EnvelopeStore(path: directory.resolve(configuration.storeFile).path, building: key.publicKey, validator: .sodium, mustExist: true)
        } catch { throw .wrap(error) }
        return BuildingNode(directory: directory, configuration: configuration, buildingKey: key, store: store, clock: clock)
    }

    /// Creates the data directory (0700), a building key (0600), the store and the configuration,
    /// and signs the building's profile. Refuses when a node is already there.
    /// `recovering`: the building key from its paper copy (``PaperKey``) instead of a new one;
    /// a key file already there must hold that same key.
    public static func initialise(
        _ directory: NodeDirectory, configuration: NodeConfiguration, recovering: SigningKey? = nil, clock: any WallClock = SystemClock()
    ) throws(NodeError) -> BuildingNode {
        guard !directory.isInitialised else { throw NodeError(.alreadyInitialised(directory.root.path)) }
        if let problem = configuration.problem { throw NodeError(.configuration("The building's settings are not valid: \(problem).")) }
        let keyPath = directory.resolve(configuration.buildingKeyFile).path
        let existingKey = FileManager.default.fileExists(atPath: keyPath)
        let key: SigningKey
        do {
            // A run of `init` that stopped half-way left its key: keep it rather than make another.
            key = existingKey ? try KeyFile.load(keyPath) : recovering ?? SigningKey.generate()
        } catch { throw .wrap(error) }
        if let recovering, recovering.publicKey != key.publicKey {
            throw NodeError(.backup("\(keyPath) holds another building's key (\(key.publicKey.shortText)…); palier never writes over a key. Recover into an empty directory."))
        }
        // Check the profile before anything is written.
        do {
            try EnvelopeRules.check(BuildingNode.profileContent(configuration.profile, key: key.publicKey, at: HybridTimestamp(millis: clock.nowMillis())))
        } catch { throw NodeError(.invalid(error)) }

        try directory.createDirectories()
        if !existingKey {
            do { try KeyFile.create(keyPath, key: key) } catch { throw .wrap(error) }
        }
        let store: EnvelopeStore
        do {
            store = try EnvelopeStore(path: directory.resolve(configuration.storeFile).path, building: key.publicKey, validator: .sodium)
        } catch { throw .wrap(error) }
        // The store holds residents' posts of building scope: private, like the keys.
        let storePath = directory.resolve(configuration.storeFile).path
        for suffix in ["", "-wal", "-shm"] { chmod(storePath + suffix, 0o600) }
        let node = BuildingNode(directory: directory, configuration: configuration, buildingKey: key, store: store, clock: clock)
        try node.publishProfile()
        // A building starts as a neighbourhood of one; `palier network join` joins another.
        if try node.networkKey() == nil { try node.createNetwork() }
        // Written last: its presence is what "initialised" means.
        try configuration.write(to: directory.configurationFile)
        return node
    }

    // MARK: - Identities

    /// Creates a personal key in the data directory's `identities/` folder.
    public func createIdentity(named name: String) throws(NodeError) -> SigningKey {
        let path = try directory.identityFile(name).path
        guard !FileManager.default.fileExists(atPath: path) else { throw NodeError(.identityExists(name)) }
        let key = SigningKey.generate()
        do { try KeyFile.create(path, key: key) } catch { throw .wrap(error) }
        return key
    }

    /// Loads a personal key by name.
    public func identity(named name: String) throws(NodeError) -> SigningKey {
        let path = try directory.identityFile(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw NodeError(.unknownIdentity(name)) }
        do { return try KeyFile.load(path) } catch { throw .wrap(error) }
    }

    /// Loads a key file given by path.
    public func loadKeyFile(_ path: String) throws(NodeError) -> SigningKey {
        do { return try KeyFile.load(path) } catch { throw .wrap(error) }
    }

    /// Names of the identities in the data directory, sorted.
    public func identityNames() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.identitiesDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".key") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// A public key from an identity name or a key's text form.
    public func publicKey(named nameOrKey: String) throws(NodeError) -> PublicKey {
        if NodeDirectory.isValidIdentityName(nameOrKey), identityNames().contains(nameOrKey) {
            return try identity(named: nameOrKey).publicKey
        }
        do { return try PublicKey(text: nameOrKey) } catch { throw NodeError(.invalidKey(nameOrKey, error)) }
    }

    // MARK: - Reading

    public func now() -> UInt64 { clock.nowMillis() }

    /// What this building's screen shows now.
    public func view() throws(NodeError) -> BuildingView {
        do { return try store.view(now: now()) } catch { throw .wrap(error) }
    }

    /// A page of the posts `palier list` shows, newest first: every building's but blocked
    /// ones', of `kind` if given, at most `limit` (nil: all); and whether older ones are left
    /// out (one row more is read to tell: no count of a district's posts).
    public func listed(kind: Kind? = nil, limit: Int?) throws(NodeError) -> (items: [ViewItem], more: Bool) {
        do {
            let blocked = try store.federationPolicy().blocked.sorted()
            let query = ViewQuery(kinds: kind.map { [$0] } ?? Kind.contentKinds, limit: limit.map { $0 + 1 } ?? Int.max, excluding: blocked)
            let items = try store.viewItems(query, buildings: nil, now: now())
            guard let limit, items.count > limit else { return (items, false) }
            return (Array(items.prefix(limit)), true)
        } catch { throw .wrap(error) }
    }

    /// The envelope an id or unambiguous id prefix names.
    public func resolve(_ prefix: String) throws(NodeError) -> EnvelopeID {
        let ids: [EnvelopeID]
        do { ids = try store.ids(matchingHexPrefix: prefix) } catch { throw .wrap(error) }
        guard !ids.isEmpty else { throw NodeError(.unknownEnvelope(prefix)) }
        guard ids.count == 1 else { throw NodeError(.ambiguousEnvelope(prefix, ids.count)) }
        return ids[0]
    }

    /// The held envelope an id or prefix names; says so when it was retracted.
    public func envelope(_ prefix: String) throws(NodeError) -> Envelope {
        let id = try resolve(prefix)
        do {
            if let envelope = try store.envelope(id) { return envelope }
        } catch { throw .wrap(error) }
        throw NodeError(.retracted(id))
    }

    /// The runtime directory and the sockets in it.
    public var feedSocketPath: String { runtimeDirectory.appendingPathComponent("feed.sock").path }
    public var controlSocketPath: String { runtimeDirectory.appendingPathComponent("control.sock").path }
    public var runtimeDirectory: URL { directory.resolve(configuration.feed.runtimeDirectory) }

    /// Figures for `palier status`.
    public func status() throws(NodeError) -> NodeStatus {
        do {
            let now = now()
            // What the screen shows: the playlist itself (followed buildings only, at most its bound).
            let settings = configuration.feed
            let screen = ScreenConfiguration(
                promoShare: settings.promoShare, eventLeadTimeMillis: UInt64(max(settings.eventLeadDays, 0)) * 86_400_000)
            let playlist = try FeedHub.playlist(store: store, now: now, configuration: screen, policy: try store.federationPolicy())
            let kinds = playlist.items.compactMap { Kind(name: $0.kind) }
            var profileName: String?
            if let envelope = try store.latestProfile(of: building, now: now), case .profile(let profile) = envelope.content.payload {
                profileName = profile.name
            }
            return NodeStatus(
                buildingName: profileName ?? configuration.buildingName,
                building: building,
                dataDirectory: directory.root.path,
                running: directory.runningNodePID(),
                shown: playlist.items.count,
                shownByKind: Dictionary(grouping: kinds, by: { $0 }).mapValues(\.count),
                members: try store.memberCount(in: building, now: now),
                statistics: try store.statistics(),
                identities: identityNames()
            )
        } catch { throw .wrap(error) }
    }
}

/// What `palier status` prints.
public struct NodeStatus: Sendable {
    public let buildingName: String
    public let building: PublicKey
    public let dataDirectory: String
    /// The pid of a running `palier run` on this data directory, if any.
    public let running: Int32?
    public let shown: Int
    public let shownByKind: [Kind: Int]
    /// Keys this building currently grants a role.
    public let members: Int
    public let statistics: StoreStatistics
    public let identities: [String]
}

