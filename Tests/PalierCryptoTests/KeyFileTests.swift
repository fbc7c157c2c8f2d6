import Foundation
import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

@Suite struct KeyFileTests {
    func temporaryPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("palier-keyfile-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("test.key").path
    }

    @Test func createsWithMode0600AndLoadsBack() throws {
        let path = temporaryPath()
        let key = SigningKey.generate()
        try KeyFile.create(path, key: key)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try KeyFile.load(path).publicKey == key.publicKey)
    }

    @Test func refusesFilesOthersCanRead() throws {
        let path = temporaryPath()
        try KeyFile.create(path, key: SigningKey.generate())
        for mode in [0o640, 0o604, 0o644, 0o660] {
            chmod(path, mode_t(mode))
            let error = #expect(throws: KeyFileError.self) { try KeyFile.load(path) }
            #expect(error?.isUnsafePermissions == true)
            #expect(error?.description.contains("chmod 600") == true)
        }
    }

    @Test func neverOverwritesAKey() throws {
        let path = temporaryPath()
        let first = SigningKey.generate()
        try KeyFile.create(path, key: first)
        #expect(throws: KeyFileError.alreadyExists(path)) { try KeyFile.create(path, key: SigningKey.generate()) }
        #expect(try KeyFile.load(path).publicKey == first.publicKey)
    }

    @Test func refusesMissingAndMalformedFiles() throws {
        let path = temporaryPath()
        #expect(throws: KeyFileError.notFound(path)) { try KeyFile.load(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data("hello\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: KeyFileError.malformed(path)) { try KeyFile.load(path) }
    }
}
