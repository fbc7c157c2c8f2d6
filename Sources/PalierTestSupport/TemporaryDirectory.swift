import Foundation

/// A fresh directory under the system's temporary directory, for one test.
public func makeTemporaryDirectory(_ label: String = "palier") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
