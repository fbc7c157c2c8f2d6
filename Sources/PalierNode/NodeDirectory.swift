import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The layout of a node's data directory (default `./.palier`):
/// `config.json`, `building.key`, `palier.sqlite`, `identities/<name>.key`, `node.pid`.
/// A node installed from the Debian package keeps its data in /var/lib/palier and its
/// configuration in /etc/palier/config.json (``system``).
public struct NodeDirectory: Sendable {
    public let root: URL
    public let configurationFile: URL
    /// The package's layout: the data belongs to the `palier` user, screens are in `palier-screen`.
    public let isSystem: Bool

    public init(path: String) {
        root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        configurationFile = root.appendingPathComponent("config.json")
        isSystem = false
    }

    /// A data directory whose configuration is kept elsewhere (the package's layout).
    public init(path: String, configurationFile: String, isSystem: Bool) {
        root = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        self.configurationFile = URL(fileURLWithPath: configurationFile).standardizedFileURL
        self.isSystem = isSystem
    }

    /// Where the Debian package puts things.
    public enum SystemLayout {
        public static let configurationDirectory = "/etc/palier"
        public static let dataDirectory = "/var/lib/palier"
        public static let user = "palier"
        public static let screenGroup = "palier-screen"
    }

    /// `--data-dir`, else `$PALIER_DIR`, else the package's node when the package is installed
    /// (`configurationDirectory` exists), else `./.palier`.
    public static func resolve(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               configurationDirectory: String = SystemLayout.configurationDirectory,
                               dataDirectory: String = SystemLayout.dataDirectory) -> NodeDirectory {
        if let path = option ?? environment["PALIER_DIR"] { return NodeDirectory(path: path) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: configurationDirectory, isDirectory: &isDirectory), isDirectory.boolValue {
            return NodeDirectory(path: dataDirectory, configurationFile: configurationDirectory + "/config.json", isSystem: true)
        }
        return NodeDirectory(path: ".palier")
    }
    public var identitiesDirectory: URL { root.appendingPathComponent("identities", isDirectory: true) }
    public var pidFile: URL { root.appendingPathComponent("node.pid") }

    /// A node is initialised once its configuration exists.
    public var isInitialised: Bool { FileManager.default.fileExists(atPath: configurationFile.path) }

    /// A path from the configuration: absolute, or relative to the data directory.
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }

    static func isValidIdentityName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && !name.hasPrefix("-")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" }
    }

    func identityFile(_ name: String) throws(NodeError) -> URL {
        guard Self.isValidIdentityName(name) else { throw NodeError(.invalidIdentityName(name)) }
        return identitiesDirectory.appendingPathComponent("\(name).key")
    }

    /// The data directory may be traversed but not listed by others (0711), so that a screen
    /// in the feed's group can reach the runtime directory inside; everything else in it is
    /// private (keys 0600, store 0600, identities 0700).
    func createDirectories() throws(NodeError) {
        for (dir, mode) in [(root, 0o711), (identitiesDirectory, 0o700)] {
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: dir.path)
            } catch {
                throw NodeError(.io("The directory \(dir.path) could not be created: \(error.localizedDescription)."))
            }
        }
    }

    /// The pid of the `palier run` holding this directory's lock, if one is running.
    public func runningNodePID() -> Int32? {
        let fd = open(pidFile.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // A running node holds an exclusive lock; if we can take a shared one, nobody runs.
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &buffer, 32)
        guard n > 0 else { return -1 }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

/// The lock a running node holds on its data directory, so that two `palier run` never share it
/// and `palier status` can tell whether a node runs. Released when the process ends.
public final class NodeLock: Sendable {
    private let fd: Int32
    private let path: String

    public init(_ directory: NodeDirectory) throws(NodeError) {
        path = directory.pidFile.path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NodeError(.io("The lock file \(path) could not be opened: \(String(cString: strerror(errno))).")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            let pid = directory.runningNodePID().map { " (pid \($0))" } ?? ""
            throw NodeError(.io("Another `palier run`\(pid) is already running on \(directory.root.path)."))
        }
        ftruncate(fd, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = write(fd, text, text.count)
    }

    deinit {
        ftruncate(fd, 0)
        close(fd)
    }
}
