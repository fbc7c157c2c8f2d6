import FuzzSupport
import PalierCore
import PalierImaging

/// A neighbour's blob, as libvips sees it: whatever bytes a peer or a resident sends are checked
/// against an image reference (header, type, size, then a full decode) before they are kept.
/// Nothing may trap, hang or leak; a refusal is a sentence.
@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = bytes(data, size)
    for type in ImageType.allCases {
        if let problem = ImageProcessor.check(input, type: type, width: 16, height: 16) {
            invariant(!problem.isEmpty, "an empty refusal")
        }
    }
    return 0
}
