import FuzzSupport
import PalierCore

/// An enrolment code as a resident types or pastes it: the full one (`palier join palier-join-…`)
/// or the short one (`palier join K7QM-2XPA-9RTD`).
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    if let code = try? EnrolmentCode(text: text) {
        invariant((try? EnrolmentCode(text: code.text)) == code, "an enrolment code does not read back from its text")
    }
    if let short = try? ShortEnrolmentCode(text: text) {
        invariant(short.secret < ShortEnrolmentCode.secretLimit, "a short code's secret is over 36 bits")
        invariant((try? ShortEnrolmentCode(text: short.text)) == short, "a short code does not read back from its text")
        invariant(short.canonical.count == ShortEnrolmentCode.characterCount, "a short code's canonical form is not 12 characters")
    }
    return 0
}
