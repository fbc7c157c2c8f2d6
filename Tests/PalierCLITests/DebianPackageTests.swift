import Foundation
import PalierTestSupport
import Testing

/// Whether this machine can build the package and run it in a debootstrap root.
enum DebianPackage {
    static let isAvailable: Bool = {
        guard let result = try? runProjectScript("scripts/deb-check.py", interpreter: "python3", ["check"]) else { return false }
        if result.status != 0 {
            FileHandle.standardError.write(Data("Skipping the Debian package test: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))\n".utf8))
        }
        return result.status == 0
    }()
}

/// The Debian package (scripts/build-deb.sh, `make deb`) installed into a fresh Debian root made
/// with debootstrap and cached under .build/debootstrap/, then run there as the service would
/// run it (scripts/deb-check.py says what each step checks). Its own phase of `make test`: it
/// builds the release binary.
@Suite(.enabled(if: DebianPackage.isAvailable, "needs root, debootstrap, dpkg-dev and namespaces: see `scripts/deb-check.py check`"))
struct DebianPackageTests {
    @Test func buildsInstallsAndRunsOnAFreshDebian() throws {
        let result = try runProjectScript("scripts/deb-check.py", interpreter: "python3", [], captureErrors: true)
        print(result.output)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasSuffix("all passed\n"))
        for step in ["palier --version", "READY=1", "systemd-analyze verify", "dpkg -P"] {
            #expect(result.output.contains(step), "missing step \(step)")
        }
    }
}
