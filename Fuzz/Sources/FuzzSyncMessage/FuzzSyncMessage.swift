import FuzzSupport
import PalierCore

/// Sync messages: any bytes decode or are refused with a `SyncMessageError`; what decodes
/// encodes to a message that decodes to the same value.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard case .known(let message)? = try? SyncMessage.decode(bytes(data, size)) else { return 0 }
    // hello and bye cut their text on encoding: compare after one round.
    let once = message.encoded()
    guard case .known(let again)? = try? SyncMessage.decode(once) else {
        invariant(false, "an encoded \(message.type) does not decode")
        return 0
    }
    invariant(again.encoded() == once, "\(message.type) does not encode the same twice")
    return 0
}
