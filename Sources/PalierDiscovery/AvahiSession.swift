import CAvahi
import Glibc
import Logging
import PalierCore
import Synchronization

/// One running Avahi discovery: the threaded poll, the client and everything it owns, and the
/// peers seen so far.
///
/// Avahi calls back on its own thread with its poll lock held; Swift code calls into Avahi only
/// with that lock taken. The callbacks reach this object through a `Sendable` context pointer
/// (never a captured closure); its mutable state sits in a `Mutex`, which is never held while
/// calling Avahi (Avahi may call back synchronously, which would deadlock).
final class AvahiSession: Sendable {
    /// An Avahi object pointer. Only dereferenced by Avahi, with the poll lock held.
    struct Handle: @unchecked Sendable, Equatable {
        let pointer: OpaquePointer
    }

    /// A service the browser lists, as Avahi names it (to resolve it again).
    private struct Listed {
        let interface: AvahiIfIndex
        let proto: AvahiProtocol
        let name: String
        let type: String
        let domain: String
    }

    private struct State {
        var client: Handle?
        var group: Handle?
        var browser: Handle?
        var listed: [ServiceInstance: Listed] = [:]
        var resolvers: [ServiceInstance: Handle] = [:]
        /// Publishes again after a collision; lives as long as the poll.
        var republishTimer: Handle?
        var directory: PeerDirectory
        var serviceName: String
        var status = DiscoveryStatus.starting
        var stopped = false
    }

    private let poll: Handle
    private let record: DiscoveryRecord
    private let port: Int?
    private let events: AsyncStream<DiscoveryEvent>.Continuation
    private let logger: Logger
    private let onStatus: @Sendable (DiscoveryStatus) -> Void
    private let state: Mutex<State>

    init(record: DiscoveryRecord, port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation, logger: Logger,
         onStatus: @escaping @Sendable (DiscoveryStatus) -> Void) throws(AvahiFailure) {
        guard let poll = avahi_threaded_poll_new() else { throw AvahiFailure("Avahi's poll could not be made") }
        self.poll = Handle(pointer: poll)
        self.record = record
        self.port = port
        self.events = events
        self.logger = logger
        self.onStatus = onStatus
        state = Mutex(State(directory: PeerDirectory(own: record.building, networkID: record.networkID, ownRun: record.runID), serviceName: record.instanceName))
        guard avahi_threaded_poll_start(poll) >= 0 else {
            avahi_threaded_poll_free(poll)
            throw AvahiFailure("Avahi's poll thread could not be started")
        }
    }

    private var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private static func session(_ userdata: UnsafeMutableRawPointer?) -> AvahiSession {
        Unmanaged<AvahiSession>.fromOpaque(userdata!).takeUnretainedValue()
    }

    // MARK: - Called from Swift

    /// Makes a client if there is none (the first time, and after a client could not be made),
    /// and resolves again the services whose resolution failed while the browser still lists them.
    func maintain() {
        avahi_threaded_poll_lock(poll.pointer)
        defer { avahi_threaded_poll_unlock(poll.pointer) }
        let (client, stopped, unresolved) = state.withLock { state in
            (state.client, state.stopped, state.listed.filter { state.resolvers[$0.key] == nil })
        }
        guard !stopped else { return }
        guard let client else { return makeClient() }
        for (instance, listed) in unresolved { resolve(instance, listed, client: client.pointer) }
    }

    /// Withdraws the service, frees every Avahi object and stops the poll thread.
    func stop() {
        avahi_threaded_poll_lock(poll.pointer)
        let client = state.withLock { state in
            state.stopped = true
            return state.client
        }
        _ = forgetClient()
        // Freeing the client frees its entry group (which withdraws the service), browser and resolvers.
        if let client { avahi_client_free(client.pointer) }
        avahi_threaded_poll_unlock(poll.pointer)
        avahi_threaded_poll_stop(poll.pointer)
        avahi_threaded_poll_free(poll.pointer)
    }

    // MARK: - With the poll lock held

    private func makeClient() {
        var error: Int32 = 0
        let client = avahi_client_new(avahi_threaded_poll_get(poll.pointer), AVAHI_CLIENT_NO_FAIL, { client, clientState, userdata in
            AvahiSession.session(userdata).clientChanged(client, clientState)
        }, context, &error)
        guard let client else {
            // Nothing made in a synchronous callback survives a failed client.
            for event in forgetClient() { events.yield(event) }
            let failure = AvahiFailure(code: error)
            if setStatus(.unavailable(reason: failure.reason)) {
                logger.warning("local discovery is off; palier keeps trying", metadata: ["reason": "\(failure.reason)"])
            }
            return
        }
        state.withLock { $0.client = Handle(pointer: client) }
    }

    private func clientChanged(_ client: OpaquePointer?, _ clientState: AvahiClientState) {
        guard let client else { return }
        switch clientState {
        case AVAHI_CLIENT_S_RUNNING:
            publish(client)
            browse(client)
        case AVAHI_CLIENT_S_COLLISION, AVAHI_CLIENT_S_REGISTERING:
            // The daemon is (re)registering its host name: our service waits until it runs again.
            if let group = state.withLock({ $0.group }) { avahi_entry_group_reset(group.pointer) }
        case AVAHI_CLIENT_CONNECTING:
            if setStatus(.unavailable(reason: "avahi-daemon is not running")) {
                logger.warning("local discovery is waiting for avahi-daemon to start")
            }
        case AVAHI_CLIENT_FAILURE:
            let code = avahi_client_errno(client)
            // The daemon (or the bus) went away. Start again with a fresh client, which waits for
            // the daemon and publishes and browses once it runs (as avahi-browse does).
            for event in forgetClient() { events.yield(event) }
            avahi_client_free(client)
            logger.warning("lost avahi-daemon; reconnecting", metadata: ["error": "\(String(cString: avahi_strerror(code)))"])
            setStatus(.unavailable(reason: AvahiFailure(code: code).reason))
            if !state.withLock({ $0.stopped }) { makeClient() }
        default:
            break
        }
    }

    /// Drops the pointers to a client and everything it owns (freeing the client frees them),
    /// and the peers found through it; returns their `disappeared` events.
    private func forgetClient() -> [DiscoveryEvent] {
        state.withLock { state in
            state.client = nil
            state.group = nil
            state.browser = nil
            state.listed = [:]
            state.resolvers = [:]
            return state.directory.removeAll()
        }
    }

    /// Registers the service (once per entry group), choosing another name while it collides.
    private func publish(_ client: OpaquePointer) {
        // Only look when there is nothing to publish, or no port a service record can carry.
        guard let port = port.flatMap({ UInt16(exactly: $0) }) else {
            setStatus(.browsing)
            return
        }
        var group = state.withLock { $0.group }
        if group == nil {
            guard let made = avahi_entry_group_new(client, { group, groupState, userdata in
                AvahiSession.session(userdata).groupChanged(group, groupState)
            }, context) else {
                fail("the service could not be published", code: avahi_client_errno(client))
                return
            }
            group = Handle(pointer: made)
            state.withLock { $0.group = group }
        }
        guard let group, avahi_entry_group_is_empty(group.pointer) != 0 else { return }
        var txt: UnsafeMutablePointer<AvahiStringList>? = nil
        for string in record.txt.reversed() { txt = avahi_string_list_add(txt, string) }
        defer { avahi_string_list_free(txt) }
        for _ in 0..<32 {
            let name = state.withLock { $0.serviceName }
            let result = avahi_entry_group_add_service_strlst(
                group.pointer, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0),
                name, DiscoveryRecord.serviceType, nil, nil, port, txt)
            if result == Int32(AVAHI_ERR_COLLISION) {
                renameAfterCollision()
                avahi_entry_group_reset(group.pointer)
                continue
            }
            guard result >= 0 else { return fail("the service could not be published", code: result) }
            let committed = avahi_entry_group_commit(group.pointer)
            if committed < 0 { fail("the service could not be published", code: committed) }
            return
        }
        logger.error("local discovery found no free service name after 32 tries")
    }

    private func groupChanged(_ group: OpaquePointer?, _ groupState: AvahiEntryGroupState) {
        guard let group else { return }
        switch groupState {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
            let name = state.withLock { $0.serviceName }
            if setStatus(.published(name: name, port: port ?? 0)) {
                logger.info("published on the local network", metadata: ["name": "\(name)", "type": "\(DiscoveryRecord.serviceType)", "port": "\(port ?? 0)"])
            }
        case AVAHI_ENTRY_GROUP_COLLISION:
            renameAfterCollision()
            avahi_entry_group_reset(group)
            // Two nodes started together with the same name collide in step, and would take
            // the same alternative together again: publish after a random pause instead.
            publishLater(withinMilliseconds: 1000)
        case AVAHI_ENTRY_GROUP_FAILURE:
            fail("the service could not be published", code: avahi_client_errno(avahi_entry_group_get_client(group)))
        default:
            break
        }
    }

    /// Publishes after a random pause of up to `jitter` ms, on the poll thread.
    private func publishLater(withinMilliseconds jitter: UInt32) {
        guard let api = avahi_threaded_poll_get(poll.pointer) else { return }
        var when = timeval()
        avahi_elapse_time(&when, 0, jitter)
        if let timer = state.withLock({ $0.republishTimer }) {
            api.pointee.timeout_update(timer.pointer, &when)
            return
        }
        guard let timer = api.pointee.timeout_new(api, &when, { _, userdata in
            let session = AvahiSession.session(userdata)
            if let client = session.state.withLock({ $0.client }), avahi_client_get_state(client.pointer) == AVAHI_CLIENT_S_RUNNING {
                session.publish(client.pointer)
            }
        }, context) else { return }
        state.withLock { $0.republishTimer = Handle(pointer: timer) }
    }

    /// Another service has this name: take the name with the start of the building key, then
    /// Avahi's alternatives of that ("Name (key) #2", …).
    private func renameAfterCollision() {
        let old = state.withLock { $0.serviceName }
        let name: String
        if old == record.instanceName {
            name = record.alternativeInstanceName
        } else {
            guard let alternative = avahi_alternative_service_name(old) else { return }
            name = String(cString: alternative)
            avahi_free(alternative)
        }
        state.withLock { $0.serviceName = name }
        logger.notice("service name taken on the local network; publishing under another", metadata: ["taken": "\(old)", "name": "\(name)"])
    }

    private func browse(_ client: OpaquePointer) {
        guard state.withLock({ $0.browser == nil }) else { return }
        guard let browser = avahi_service_browser_new(
            client, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), DiscoveryRecord.serviceType, nil, AvahiLookupFlags(0),
            { browser, interface, proto, event, name, type, domain, flags, userdata in
                AvahiSession.session(userdata).browsed(browser, interface, proto, event, name, type, domain)
            }, context)
        else {
            return fail("neighbours cannot be looked for", code: avahi_client_errno(client))
        }
        state.withLock { $0.browser = Handle(pointer: browser) }
    }

    private func browsed(_ browser: OpaquePointer?, _ interface: AvahiIfIndex, _ proto: AvahiProtocol, _ event: AvahiBrowserEvent,
                         _ name: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?) {
        switch event {
        case AVAHI_BROWSER_NEW:
            guard let browser, let name, let type, let domain else { return }
            let instance = Self.instance(name, interface, proto, domain)
            let listed = Listed(interface: interface, proto: proto, name: String(cString: name), type: String(cString: type), domain: String(cString: domain))
            let known = state.withLock { state in
                state.listed[instance] = listed
                return state.resolvers[instance] != nil
            }
            if !known, let client = avahi_service_browser_get_client(browser) { resolve(instance, listed, client: client) }
        case AVAHI_BROWSER_REMOVE:
            guard let name, let domain else { return }
            let instance = Self.instance(name, interface, proto, domain)
            let (resolver, gone) = state.withLock { state in
                state.listed[instance] = nil
                return (state.resolvers.removeValue(forKey: instance), state.directory.removed(instance))
            }
            if let resolver { avahi_service_resolver_free(resolver.pointer) }
            for event in gone { events.yield(event) }
        case AVAHI_BROWSER_FAILURE:
            let code = browser.map { avahi_client_errno(avahi_service_browser_get_client($0)) } ?? 0
            logger.error("browsing the local network failed", metadata: ["error": "\(String(cString: avahi_strerror(code)))"])
        default:
            break
        }
    }

    /// Starts resolving a listed service. The resolver stays while the service exists, and
    /// reports it again when it changes.
    private func resolve(_ instance: ServiceInstance, _ listed: Listed, client: OpaquePointer) {
        guard let resolver = avahi_service_resolver_new(
            client, listed.interface, listed.proto, listed.name, listed.type, listed.domain, listed.proto, AvahiLookupFlags(0),
            { resolver, interface, proto, event, name, type, domain, host, address, port, txt, flags, userdata in
                AvahiSession.session(userdata).resolved(resolver, interface, proto, event, name, domain, address, port, txt)
            }, context)
        else {
            logger.warning("could not resolve a neighbour's service", metadata: ["service": "\(instance)"])
            return
        }
        state.withLock { $0.resolvers[instance] = Handle(pointer: resolver) }
    }

    private func resolved(_ resolver: OpaquePointer?, _ interface: AvahiIfIndex, _ proto: AvahiProtocol, _ event: AvahiResolverEvent,
                          _ name: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?, _ address: UnsafePointer<AvahiAddress>?,
                          _ port: UInt16, _ txt: UnsafeMutablePointer<AvahiStringList>?) {
        guard let name, let domain else { return }
        let instance = Self.instance(name, interface, proto, domain)
        guard event == AVAHI_RESOLVER_FOUND, let address else {
            // Not answering: not a peer for now; resolved again (``maintain()``) while listed.
            let (handle, gone) = state.withLock { state in
                (state.resolvers.removeValue(forKey: instance), state.directory.removed(instance))
            }
            if let handle { avahi_service_resolver_free(handle.pointer) }
            for event in gone { events.yield(event) }
            logger.info("a neighbour's service did not resolve", metadata: ["service": "\(instance)"])
            return
        }
        var host = Self.text(of: address)
        if host.lowercased().hasPrefix("fe80:") { host += "%" + Self.interfaceName(interface) }
        var strings: [[UInt8]] = []
        var node = txt
        while let current = node {
            if let text = avahi_string_list_get_text(current) {
                strings.append(Array(UnsafeBufferPointer(start: text, count: avahi_string_list_get_size(current))))
            }
            node = avahi_string_list_get_next(current)
        }
        let outcome = state.withLock { $0.directory.resolved(instance, txt: strings, endpoint: Endpoint(host: host, port: Int(port))) }
        switch outcome.ignored {
        case nil:
            break
        case .ownService?:
            logger.debug("seen this node's own service", metadata: ["service": "\(instance)"])
        case let ignored?:
            logger.notice("ignoring a service on the local network: \(ignored)", metadata: ["service": "\(instance)", "address": "\(host)"])
        }
        for event in outcome.events { events.yield(event) }
    }

    // MARK: - Helpers

    @discardableResult
    private func setStatus(_ status: DiscoveryStatus) -> Bool {
        let changed = state.withLock { state in
            defer { state.status = status }
            return state.status != status
        }
        if changed { onStatus(status) }
        return changed
    }

    private func fail(_ what: String, code: Int32) {
        let text = String(cString: avahi_strerror(code))
        logger.error("local discovery: \(what)", metadata: ["error": "\(text)"])
        setStatus(.unavailable(reason: "\(what) (\(text))"))
    }

    private static func instance(_ name: UnsafePointer<CChar>, _ interface: AvahiIfIndex, _ proto: AvahiProtocol, _ domain: UnsafePointer<CChar>) -> ServiceInstance {
        let family = proto == AvahiProtocol(AVAHI_PROTO_INET6) ? "IPv6" : "IPv4"
        return ServiceInstance(name: String(cString: name), interface: "\(interfaceName(interface))/\(family)", domain: String(cString: domain))
    }

    private static func interfaceName(_ index: AvahiIfIndex) -> String {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard index >= 0, if_indextoname(UInt32(index), &buffer) != nil else { return "if\(index)" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private static func text(of address: UnsafePointer<AvahiAddress>) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        avahi_address_snprint(&buffer, buffer.count, address)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
