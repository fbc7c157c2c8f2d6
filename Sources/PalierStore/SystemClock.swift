import Foundation
import PalierCore

/// The system's wall clock.
public struct SystemClock: WallClock {
    public init() {}
    /// A clock set before 1970 (a board without a real-time clock, before NTP) reads as 0.
    public func nowMillis() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }
}
