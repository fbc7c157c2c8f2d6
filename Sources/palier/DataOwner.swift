import Foundation
import PalierNode
#if canImport(Glibc)
import Glibc
#endif

/// The package's node belongs to the `palier` user (/var/lib/palier, /etc/palier). An admin
/// types `sudo palier …`: palier then becomes that user before it reads or writes anything, so
/// that no file of the node ends up owned by root (the service could no longer open it). Any
/// other user is told to use sudo. A node in a directory of one's own is left as it is.
enum DataOwner {
    static func adopt(_ directory: NodeDirectory) throws(NodeError) {
        guard directory.isSystem else { return }
        var info = stat()
        guard stat(directory.root.path, &info) == 0 else {
            throw NodeError(.io("\(directory.root.path) is missing (reinstall the palier package, which creates it)."))
        }
        let uid = geteuid()
        if uid == info.st_uid { return }
        guard let entry = getpwuid(info.st_uid) else {
            throw NodeError(.io("\(directory.root.path) belongs to uid \(info.st_uid), which has no account on this machine."))
        }
        let name = String(cString: entry.pointee.pw_name)
        let group = entry.pointee.pw_gid
        guard uid == 0 else { throw NodeError(.notTheOwner(directory.root.path, name)) }
        // Groups first (the supplementary ones give the screen's group), then the user, which
        // gives up root for good: setuid(2) as root changes every user id.
        guard initgroups(name, group) == 0, setgid(group) == 0, setuid(info.st_uid) == 0, getuid() == info.st_uid else {
            throw NodeError(.io("palier could not become the user \(name): \(String(cString: strerror(errno)))."))
        }
        setenv("HOME", directory.root.path, 1)
    }
}
