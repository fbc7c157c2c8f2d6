#if canImport(Glibc)
import Glibc
#endif
import PalierFeed

/// Tells a running node that the store changed, so that screens update at once instead of at
/// the node's next look (at most a second later). Best effort: when no node runs, nothing happens.
enum RunningNodeSignal {
    /// Connects to the node's control socket, says `changed`, and waits up to `timeoutMillis`
    /// for its `ok` (sent once the screens have been told).
    static func storeChanged(controlSocket path: String, timeoutMillis: Int = 1000) {
        guard let fd = connectUnixStream(path) else { return }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let message = Array("changed\n".utf8)
        guard send(fd, message, message.count, Int32(MSG_NOSIGNAL)) == message.count else { return }
        var reply = [UInt8](repeating: 0, count: 8)
        _ = recv(fd, &reply, reply.count, 0)
    }
}
