#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PalierCore

/// Why a key file could not be read or written.
public struct KeyFileError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: Hashable, Sendable {
        case notFound(String)
        case unsafePermissions(String, mode: UInt32)
        case notARegularFile(String)
        case malformed(String)
        case alreadyExists(String)
        case io(String, errno: Int32)
    }
    package let code: Code

    /// The file does not exist.
    public static func notFound(_ path: String) -> Self { Self(code: .notFound(path)) }
    /// The file is readable or writable by group or others.
    public static func unsafePermissions(_ path: String, mode: UInt32) -> Self { Self(code: .unsafePermissions(path, mode: mode)) }
    public static func malformed(_ path: String) -> Self { Self(code: .malformed(path)) }
    public static func alreadyExists(_ path: String) -> Self { Self(code: .alreadyExists(path)) }

    /// True when the refusal is about permissions (the CLI exits with EX_NOPERM).
    public var isUnsafePermissions: Bool {
        if case .unsafePermissions = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .notFound(let p): L("Key file \(p) does not exist.", "Le fichier de clé \(p) n'existe pas.")
        case .unsafePermissions(let p, let mode):
            L("Key file \(p) is accessible to group or others (mode \(String(mode & 0o777, radix: 8))); run `chmod 600 \(p)` and try again.", "Le fichier de clé \(p) est accessible au groupe ou aux autres (mode \(String(mode & 0o777, radix: 8))) ; lancez `chmod 600 \(p)` et réessayez.")
        case .notARegularFile(let p): L("Key file \(p) is not a regular file.", "Le fichier de clé \(p) n'est pas un fichier ordinaire.")
        case .malformed(let p): L("Key file \(p) is not a palier key file.", "Le fichier \(p) n'est pas un fichier de clé palier.")
        case .alreadyExists(let p): L("Key file \(p) already exists; palier never overwrites a key.", "Le fichier de clé \(p) existe déjà ; palier n'écrase jamais une clé.")
        case .io(let p, let e): L("Key file \(p) could not be accessed: \(String(cString: strerror(e))).", "Le fichier de clé \(p) est inaccessible : \(String(cString: strerror(e))).")
        }
    }
}

/// Secret key files: one line `palier-ed25519-seed <64 hex digits>`, mode 0600, never overwritten.
/// A file that group or others can read or write is refused, as ssh does.
public enum KeyFile {
    static let prefix = "palier-ed25519-seed "

    /// Reads a key, refusing files that others could read.
    public static func load(_ path: String) throws(KeyFileError) -> SigningKey {
        guard let key = SigningKey(seed: try SecretFile.load(path, prefix: prefix)) else { throw .malformed(path) }
        return key
    }

    /// Writes a new key file with mode 0600; refuses to replace an existing file.
    public static func create(_ path: String, key: SigningKey) throws(KeyFileError) {
        try SecretFile.create(path, prefix: prefix, secret: key.seed)
    }
}

/// A file of mode 0600 holding one line `<prefix><64 hex digits>`: the node's seed, the
/// neighbourhood's network key.
enum SecretFile {
    static let maximumSize = 1024

    /// Reads the 32-byte secret, refusing files that group or others could access.
    static func load(_ path: String, prefix: String) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            throw e == ENOENT ? .notFound(path) : KeyFileError(code: .io(path, errno: e))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw KeyFileError(code: .io(path, errno: errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyFileError(code: .notARegularFile(path)) }
        guard info.st_mode & 0o077 == 0 else { throw .unsafePermissions(path, mode: UInt32(info.st_mode)) }
        guard info.st_size <= maximumSize else { throw .malformed(path) }

        var buffer = [UInt8](repeating: 0, count: maximumSize)
        let n = read(fd, &buffer, maximumSize)
        guard n >= 0 else { throw KeyFileError(code: .io(path, errno: errno)) }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(prefix) }),
              let secret = bytes(fromHex: line.dropFirst(prefix.count).trimmingSpaces()), secret.count == 32 else {
            throw .malformed(path)
        }
        return secret
    }

    /// Writes a new file with mode 0600; refuses to replace an existing one.
    static func create(_ path: String, prefix: String, secret: [UInt8]) throws(KeyFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let e = errno
            throw e == EEXIST ? .alreadyExists(path) : KeyFileError(code: .io(path, errno: e))
        }
        defer { close(fd) }
        let line = Array("\(prefix)\(hexString(secret))\n".utf8)
        guard fchmod(fd, 0o600) == 0, write(fd, line, line.count) == line.count, fsync(fd) == 0 else {
            let e = errno
            unlink(path)
            throw KeyFileError(code: .io(path, errno: e))
        }
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let last = s.last, last == " " || last == "\r" || last == "\t" { s = s.dropLast() }
        return s
    }
}
