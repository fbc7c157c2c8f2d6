import Hummingbird
import PalierCore
import Logging
import NIOCore
import PalierStore
import ServiceLifecycle

/// The kiosk web server on loopback: the screen page, `/feed.json` (the current snapshot) and
/// `/events` (Server-Sent Events carrying the feed's lines). It answers only requests named to
/// it (`Host` 127.0.0.1, localhost, [::1] or a configured name): a web page elsewhere that
/// points a name of its own at 127.0.0.1 (DNS rebinding) cannot read the feed.
public enum KioskServer {
    public struct Page: Sendable {
        public var language: String
        public var panel: KioskPanel?
        /// Names besides 127.0.0.1, localhost and [::1] that the page may be reached by.
        public var hostNames: [String]

        public init(language: String = "fr", panel: KioskPanel? = nil, hostNames: [String] = []) {
            self.language = language
            self.panel = panel
            self.hostNames = hostNames
        }
    }

    /// The host of `host[:port]`, brackets kept for IPv6 (`[::1]:7480` → `[::1]`).
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") { return String(authority[...end]) }
        return String(authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The names the kiosk answers to.
    static func hostNames(_ page: Page) -> Set<String> {
        Set(["127.0.0.1", "localhost", "[::1]"] + page.hostNames.map { $0.lowercased() })
    }

    public static func service(hub: FeedHub, host: String = "127.0.0.1", port: Int, page: Page = Page(), logger: Logger) -> some Service {
        let router = Router()
        router.add(middleware: HostCheck(allowed: hostNames(page), logger: logger))
        let html = KioskPage.render(language: page.language, building: hub.buildingName, panel: page.panel)
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: html))
            )
        }
        router.get("/feed.json") { _, _ in
            let events = await hub.subscribe()
            var snapshot = ""
            for await event in events {
                if case .snapshot = event { snapshot = event.line(); break }
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: snapshot))
            )
        }
        // Posts' images, by their content address: never change, so cached for good.
        let store = hub.store
        router.get("/blobs/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            let found: (bytes: [UInt8], type: ImageType)?
            do throws(StoreError) {
                found = try store.heldBlobBytes(named: name)
            } catch {
                logger.error("kiosk could not read an image", metadata: ["image": "\(name)", "error": "\(error)"])
                found = nil
            }
            guard let found else {
                return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "No such image here.\n")))
            }
            return Response(
                status: .ok,
                headers: [.contentType: found.type.mediaType, .cacheControl: "public, max-age=31536000, immutable",
                          .init("X-Content-Type-Options")!: "nosniff"],
                body: .init(byteBuffer: ByteBuffer(bytes: found.bytes))
            )
        }
        router.get("/events") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                body: .init { writer in
                    let events = await hub.subscribe()
                    // A comment line first, so the browser knows the stream is open at once.
                    try await writer.write(ByteBuffer(string: ": palier feed\nretry: 2000\n\n"))
                    for await event in events {
                        let line = event.line()
                        try await writer.write(ByteBuffer(string: "data: \(line.dropLast())\n\n"))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "palier"),
            logger: logger
        )
    }
}

/// Refuses a request whose `Host` is not one of the kiosk's names (421), port aside.
struct HostCheck<Context: RequestContext>: RouterMiddleware {
    let allowed: Set<String>
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let authority = (request.head.authority ?? "").lowercased()
        guard allowed.contains(KioskServer.hostName(authority)) else {
            logger.warning("kiosk request for another host refused", metadata: ["host": "\(authority)"])
            return Response(status: .misdirectedRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "This screen answers only to its own name.\n")))
        }
        return try await next(request, context)
    }
}
