import FuzzSupport
import PalierCore

/// One message of the residents' channel (docs/protocol.md part 3), as a node reads it from a
/// resident's machine and a resident's client from the node.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let message = try? ResidentMessage.decode(bytes(data, size)) else { return 0 }
    let again = message.encoded()
    invariant((try? ResidentMessage.decode(again)) == message, "a residents' message does not read back as written")
    return 0
}
