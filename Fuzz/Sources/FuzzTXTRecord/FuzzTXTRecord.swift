import FuzzSupport
import PalierDiscovery

/// A resolved service's TXT record, as DNS carries it (RFC 6763 §6: strings each behind a
/// length byte): a record or a `DiscoveryRecordError`; a record's own TXT strings read back
/// to the same record.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = bytes(data, size)
    var strings: [[UInt8]] = []
    var offset = 0
    while offset < input.count {
        let length = Int(input[offset])
        let end = min(offset + 1 + length, input.count)
        strings.append(Array(input[(offset + 1)..<end]))
        offset = end
    }
    guard let record = try? DiscoveryRecord(txt: strings) else { return 0 }
    invariant((try? DiscoveryRecord(txt: record.txt.map { Array($0.utf8) })) == record, "a record does not read back from its TXT strings")
    _ = record.instanceName
    _ = record.alternativeInstanceName
    return 0
}
