import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The kiosk web server on loopback: the screen page, `/feed.json` (the current snapshot) and
/// `/events` (Server-Sent Events carrying the feed's lines).
public enum KioskServer {
    public static func service(hub: FeedHub, host: String = "127.0.0.1", port: Int, logger: Logger) -> some Service {
        let router = Router()
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: KioskPage.html))
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
