import PalierCore

/// The seedable generator of tests and simulations (SplitMix64), so that a failing seed replays
/// exactly.
public typealias SeededRandom = SplitMix64

extension SplitMix64 {
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}
