import Foundation
import PalierCore

/// The system's wall clock.
public struct SystemClock: WallClock {
    public init() {}
    public func nowMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
