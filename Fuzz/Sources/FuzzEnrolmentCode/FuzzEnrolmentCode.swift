import FuzzSupport
import PalierCore

/// An enrolment code as a resident types or pastes it (`palier join palier-join-…`).
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    guard let code = try? EnrolmentCode(text: text) else { return 0 }
    invariant((try? EnrolmentCode(text: code.text)) == code, "an enrolment code does not read back from its text")
    return 0
}
